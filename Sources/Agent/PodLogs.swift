import Foundation
import KubeAPI

/// Reading container logs as `kubectl logs` shows them: the CRI log files under
/// `<log root>/<namespace>_<pod>_<uid>/<container>/<restart>.log`, stripped of their
/// timestamp, stream and tag, with partial (`P`) records joined to the line they belong to.
public struct PodLogs: Sendable {
    public let logRoot: String

    public init(logRoot: String) {
        self.logRoot = logRoot
    }

    public struct LogError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The log file of a container's current (or, with `previous`, the one before) start.
    public func file(pod: Pod, container: String?, previous: Bool) throws -> String {
        let name: String
        if let container {
            guard pod.spec.allContainerNames.contains(container) else {
                throw LogError(description: "container \(container) is not valid for pod \(pod.metadata.name ?? "")")
            }
            name = container
        } else if pod.spec.containers.count == 1 {
            name = pod.spec.containers[0].name
        } else {
            // kubectl's wording for a multi-container pod without -c.
            throw LogError(description: "a container name must be specified for pod \(pod.metadata.name ?? ""), choose one of: [\(pod.spec.containers.map(\.name).joined(separator: " "))]")
        }
        let dir = directory(pod: pod, container: name)
        let numbers = attempts(pod: pod, container: name)
        guard let last = numbers.last else {
            throw LogError(description: "container \"\(name)\" in pod \"\(pod.metadata.name ?? "")\" has no logs yet")
        }
        if previous {
            guard numbers.count >= 2 else {
                throw LogError(description: "previous terminated container \"\(name)\" in pod \"\(pod.metadata.name ?? "")\" not found")
            }
            return "\(dir)/\(numbers[numbers.count - 2]).log"
        }
        return "\(dir)/\(last).log"
    }

    /// `<log root>/<namespace>_<pod>_<uid>/<container>`: one `<attempt>.log` per start.
    public func directory(pod: Pod, container: String) -> String {
        "\(logRoot)/\(pod.metadata.namespace ?? "default")_\(pod.metadata.name ?? "")_\(pod.metadata.uid ?? "")/\(container)"
    }

    /// The starts of a container that have a log file, oldest first.
    public func attempts(pod: Pod, container: String) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory(pod: pod, container: container))) ?? [])
            .compactMap { $0.hasSuffix(".log") ? Int($0.dropLast(4)) : nil }.sorted()
    }

    /// The messages of CRI log text; a trailing incomplete record is returned in `rest`.
    public static func messages(_ text: Substring) -> (lines: String, rest: Substring) {
        var output = ""
        var rest = text[...]
        while let newline = rest.firstIndex(of: "\n") {
            let record = rest[..<newline]
            rest = rest[rest.index(after: newline)...]
            // "<timestamp> <stream> <P|F> <message>"
            let fields = record.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count >= 3 else { continue }
            let message = fields.count == 4 ? fields[3] : ""
            output += message
            if fields[2] != "P" { output += "\n" }
        }
        return (output, rest)
    }
}
