import Agent
import AsyncHTTPClient
import Cgroups
import Foundation
import KubeAPI
import KubeletServer
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import TestSupport

/// A `KubeletHost` over pods a test sets and log files it writes.
final class FakeKubeletHost: KubeletHost {
    let nodeName = "node-a"
    let root: String
    let cgroups: (any CgroupManager)?
    let cgroupParent: String
    private let current = Mutex<[Pod]>([])
    private let lookups = Mutex(0)

    init(root: String, cgroups: (any CgroupManager)? = nil, cgroupParent: String = "swiftlet") {
        self.root = root
        self.cgroups = cgroups
        self.cgroupParent = cgroupParent
    }

    func pods() -> [Pod] {
        lookups.withLock { $0 += 1 }
        return current.withLock { $0 }
    }
    func set(_ pods: [Pod]) { current.withLock { $0 = pods } }
    /// How often the server has asked for the pods (a follower asks every second).
    var podLookups: Int { lookups.withLock { $0 } }
    var logs: PodLogs { PodLogs(logRoot: root + "/logs") }
    var dataDirectory: String { root }
    var imageDirectory: String { root + "/images" }

    /// Appends CRI records to `<logs>/<ns>_<name>_<uid>/<container>/<attempt>.log`.
    func log(_ pod: Pod, _ container: String, attempt: Int, _ records: [String]) throws {
        let directory = logs.directory(pod: pod, container: container)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/\(attempt).log"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(records.map { $0 + "\n" }.joined().utf8))
    }
}

/// A pod named `name` in `default` with one container per name, and a status built by `state`.
func makePod(_ name: String, uid: String = "uid-1", containers: [String] = ["app"], restartPolicy: String = "Always",
             statuses: [ContainerStatus] = [], phase: String = "Running") throws -> Pod {
    let containerJSON = containers.map { #"{"name":"\#($0)","image":"busybox"}"# }.joined(separator: ",")
    let json = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"default","uid":"\#(uid)"},"spec":{"restartPolicy":"\#(restartPolicy)","containers":[\#(containerJSON)]}}"#
    var pod = try JSONDecoder().decode(Pod.self, from: Data(json.utf8))
    pod.status = PodStatus(phase: phase, startTime: Time(Date()), containerStatuses: statuses)
    return pod
}

/// A container status in the given state; `attempt` names its log file through the container ID.
func running(_ name: String, uid: String = "uid-1", attempt: Int, previous: Int? = nil) -> ContainerStatus {
    var status = ContainerStatus(name: name, ready: true, restartCount: Int32(attempt), image: "busybox", imageID: "")
    status.containerID = "swiftlet://\(uid)/\(name)/\(attempt)"
    status.state = ContainerState(running: ContainerStateRunning(startedAt: Time(Date())))
    if let previous {
        var terminated = ContainerStateTerminated(exitCode: 1)
        terminated.containerID = "swiftlet://\(uid)/\(name)/\(previous)"
        status.lastState = ContainerState(terminated: terminated)
    }
    return status
}

func terminated(_ name: String, uid: String = "uid-1", attempt: Int, exitCode: Int32 = 0) -> ContainerStatus {
    var status = ContainerStatus(name: name, ready: false, restartCount: Int32(attempt), image: "busybox", imageID: "")
    status.containerID = "swiftlet://\(uid)/\(name)/\(attempt)"
    var state = ContainerStateTerminated(exitCode: exitCode)
    state.containerID = status.containerID
    status.state = ContainerState(terminated: state)
    return status
}

func waiting(_ name: String, reason: String) -> ContainerStatus {
    var status = ContainerStatus(name: name, ready: false, restartCount: 0, image: "busybox", imageID: "")
    status.state = ContainerState(waiting: ContainerStateWaiting(reason: reason))
    return status
}

/// A TokenReview stand-in: fixed tokens, counting the reviews it was asked for.
final class FakeReviewer: TokenReviewer {
    let users: [String: ReviewedUser]
    private let calls = Mutex(0)

    init(_ users: [String: ReviewedUser] = [
        "admin-token": ReviewedUser(name: "system:admin", groups: ["system:masters", "system:authenticated"]),
        "node-token": ReviewedUser(name: "system:node:node-b", groups: ["system:nodes", "system:authenticated"]),
    ]) {
        self.users = users
    }

    var reviews: Int { calls.withLock { $0 } }

    func review(token: String) async throws -> ReviewedUser? {
        calls.withLock { $0 += 1 }
        return users[token]
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A response read whole.
struct TestResponse {
    let status: Int
    let contentType: String?
    let body: String
}

/// The kubelet API over real HTTPS on 127.0.0.1 with a random port, and a client that does not
/// verify its self-signed certificate, for the duration of `body`.
struct KubeletTestServer: Sendable {
    let port: Int
    let client: HTTPClient

    func get(_ path: String, token: String? = "admin-token") async throws -> TestResponse {
        try await send(.GET, path, token: token)
    }

    func send(_ method: HTTPMethod, _ path: String, token: String? = "admin-token") async throws -> TestResponse {
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await client.execute(request, timeout: .seconds(30))
        var body = try await response.body.collect(upTo: 16 << 20)
        return TestResponse(status: Int(response.status.code), contentType: response.headers.first(name: "content-type"),
                            body: body.readString(length: body.readableBytes) ?? "")
    }

    /// Starts a streaming GET; the returned stream yields the body's chunks as text.
    func stream(_ path: String, token: String = "admin-token") async throws -> (status: Int, chunks: AsyncThrowingStream<String, any Error>) {
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)\(path)")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = response.body
        let chunks = AsyncThrowingStream<String, any Error> { continuation in
            let task = Task {
                do {
                    for try await buffer in body { continuation.yield(String(buffer: buffer)) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return (Int(response.status.code), chunks)
    }
}

func withKubeletServer<T: Sendable>(host: any KubeletHost, reviewer: any TokenReviewer = FakeReviewer(),
                                     certificateDirectory: String,
                                     _ body: @Sendable (KubeletTestServer) async throws -> T) async throws -> T {
    var logger = Logger(label: "test-kubelet")
    logger.logLevel = .critical
    let server = KubeletServer(host: host, configuration: KubeletServerConfiguration(address: "127.0.0.1", port: 0,
                                                                                     certificateDirectory: certificateDirectory),
                               reviewer: reviewer, logger: logger)
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.certificateVerification = .none
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
    let result = await whileServing("the kubelet API server", run: { try await server.run(onListening: $0) }) { port in
        try await body(KubeletTestServer(port: port, client: client))
    }
    try? await client.shutdown()
    return try result.get()
}
