import Agent
import Foundation
import Hummingbird
import KubeAPI

/// `GET /containerLogs/{namespace}/{pod}/{container}`: kubelet's getContainerLogs
/// (pkg/kubelet/server/server.go) with its status codes and messages, and the log text as
/// `kubectl logs` prints it.
struct ContainerLogsRequest {
    let host: any KubeletHost

    /// A failed request: kubelet answers with a plain-text message.
    struct Failure: Error {
        let status: HTTPResponse.Status
        let message: String
    }

    func respond(_ request: Request, path parts: [String], query: [String: String]) throws(Failure) -> Response {
        guard parts.count >= 2, !parts[1].isEmpty else {
            throw Failure(status: .badRequest, message: #"{"message": "Missing podNamespace."}"#)
        }
        guard parts.count >= 3, !parts[2].isEmpty else { throw Failure(status: .badRequest, message: #"{"message": "Missing podID."}"#) }
        guard parts.count >= 4, !parts[3].isEmpty else {
            throw Failure(status: .badRequest, message: #"{"message": "Missing container name."}"#)
        }
        let (namespace, podName, container) = (parts[1], parts[2], parts[3])
        let (options, previous) = try Self.options(query)

        guard let pod = host.pods().first(where: { ($0.metadata.namespace ?? "default") == namespace && $0.metadata.name == podName }) else {
            throw Failure(status: .notFound, message: "pod \"\(podName)\" does not exist")
        }
        guard pod.spec.allContainerNames.contains(container) else {
            throw Failure(status: .notFound, message: "container \"\(container)\" not found in pod \"\(podName)\"")
        }
        let logs = host.logs
        let path: String
        do {
            path = try logs.logFile(pod: pod, container: container, previous: previous)
        } catch {
            throw Failure(status: .badRequest, message: error.description)
        }

        let host = self.host
        let uid = pod.metadata.uid
        let reader = ContainerLogReader(options: options)
        // kubelet's follower moves on when the container starts again and ends when it will not.
        let step: @Sendable (String) async -> ContainerLogReader.FollowStep = { current in
            guard let now = host.pods().first(where: { $0.metadata.uid == uid }) else { return .stop }
            if let newest = try? logs.logFile(pod: now, container: container, previous: false), newest != current,
               let newAttempt = Self.attempt(of: newest), let currentAttempt = Self.attempt(of: current), newAttempt > currentAttempt {
                return .next(newest)
            }
            return PodLogs.followEnds(pod: now, container: container) ? .stop : .wait
        }
        let body = ResponseBody { writer in
            do {
                if options.follow {
                    // Stop reading when the client goes away (kubectl logs -f interrupted).
                    try await request.body.consumeWithCancellationOnInboundClose { _ in
                        try await reader.read(path: path, step: step) { text in
                            try await writer.write(ByteBuffer(string: text))
                        }
                    }
                } else {
                    try await reader.read(path: path) { text in try await writer.write(ByteBuffer(string: text)) }
                }
            } catch is CancellationError {
                // The client went away.
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
    }

    static func attempt(of path: String) -> Int? {
        let file = (path as NSString).lastPathComponent
        return file.hasSuffix(".log") ? Int(file.dropLast(4)) : nil
    }

    /// The query as kubelet decodes v1.PodLogOptions; a value that does not parse is a 400,
    /// options that are out of range a 422, each with kubelet's body.
    static func options(_ parameters: [String: String], now: Date = Date()) throws(Failure) -> (LogOptions, previous: Bool) {
        var query = parameters
        // The old `tail` parameter; "all" is the same as leaving it out.
        if let tail = query["tail"], !tail.isEmpty {
            query["tailLines"] = tail == "all" ? nil : tail
        }
        let undecodable = Failure(status: .badRequest, message: #"{"message": "Unable to decode query."}"#)
        let invalid = Failure(status: .unprocessableContent, message: #"{"message": "Invalid request."}"#)
        func flag(_ name: String) throws(Failure) -> Bool {
            guard let text = query[name], !text.isEmpty else { return false }
            // Go's strconv.ParseBool.
            switch text {
            case "1", "t", "T", "true", "TRUE", "True": return true
            case "0", "f", "F", "false", "FALSE", "False": return false
            default: throw undecodable
            }
        }
        func integer(_ name: String) throws(Failure) -> Int64? {
            guard let text = query[name], !text.isEmpty else { return nil }
            guard let value = Int64(text) else { throw undecodable }
            return value
        }
        var options = LogOptions(follow: try flag("follow"), timestamps: try flag("timestamps"))
        let previous = try flag("previous")
        if let tail = try integer("tailLines") {
            guard tail >= 0 else { throw invalid }
            options.tailLines = Int(tail)
        }
        if let limit = try integer("limitBytes") {
            guard limit >= 1 else { throw invalid }
            options.limitBytes = Int(limit)
        }
        let sinceSeconds = try integer("sinceSeconds")
        let sinceTime = query["sinceTime"].flatMap { $0.isEmpty ? nil : $0 }
        if sinceSeconds != nil && sinceTime != nil { throw invalid }
        if let sinceSeconds {
            guard sinceSeconds >= 1 else { throw invalid }
            options.sinceNanoseconds = Int64(now.timeIntervalSince1970 * 1e9) - sinceSeconds * 1_000_000_000
        }
        if let sinceTime {
            guard let nanos = CRILogParser.nanoseconds(sinceTime) else { throw undecodable }
            options.sinceNanoseconds = nanos
        }
        return (options, previous)
    }
}
