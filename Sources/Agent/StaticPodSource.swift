import Foundation
import Glibc
import Images
import KubeAPI

/// kubelet's file source (pkg/kubelet/config/file.go): every file in the manifest directory
/// holds one Pod; hidden files are ignored. A pod read from a file is named
/// `<name>-<node name>`, defaults to namespace "default", and gets a uid derived from the node,
/// the file and its content — so editing a manifest replaces the pod, as on Kubernetes.
public struct StaticPodSource: Sendable {
    public let directory: String
    public let nodeName: String

    public init(directory: String, nodeName: String) {
        self.directory = directory
        self.nodeName = nodeName
    }

    /// A manifest that could not be used, with the reason (file and field).
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public let file: String
        public let message: String
        public var description: String { "\(file): \(message)" }
    }

    /// The pods the directory asks for, by uid, and the files that could not be used.
    public func scan() -> (pods: [String: Pod], problems: [Problem]) {
        var pods: [String: Pod] = [:]
        var problems: [Problem] = []
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            do {
                let pod = try load(path)
                guard let uid = pod.metadata.uid else { continue }
                if let other = pods.values.first(where: { $0.metadata.name == pod.metadata.name && $0.metadata.namespace == pod.metadata.namespace }) {
                    problems.append(Problem(file: path, message: "pod \"\(other.metadata.name ?? "")\" in namespace \"\(other.metadata.namespace ?? "")\" is defined by another manifest too; ignoring this one"))
                    continue
                }
                pods[uid] = pod
            } catch {
                problems.append(Problem(file: path, message: "\(error)"))
            }
        }
        return (pods, problems)
    }

    /// Reads, defaults, names and validates one manifest.
    public func load(_ path: String) throws -> Pod {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StaticPodError("cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        var pod = try Manifest.decodePod(yaml: text)
        pod.metadata.name = (pod.metadata.name ?? "") + "-" + nodeName
        if pod.metadata.namespace?.isEmpty ?? true { pod.metadata.namespace = "default" }
        pod.spec.nodeName = nodeName
        var annotations = pod.metadata.annotations ?? [:]
        annotations["kubernetes.io/config.source"] = "file"
        let hash = Self.uid(nodeName: nodeName, path: path, content: data)
        annotations["kubernetes.io/config.hash"] = hash
        pod.metadata.annotations = annotations
        if pod.metadata.uid?.isEmpty ?? true { pod.metadata.uid = hash }
        return try pod.withDefaults().validated()
    }

    /// kubelet hashes "host:<node>", "file:<path>" and the pod (md5); we hash the same inputs
    /// with SHA-256 and keep 32 hex digits, the length of kubelet's static pod uids.
    static func uid(nodeName: String, path: String, content: Data) -> String {
        let input = Array("host:\(nodeName)file:\(path)".utf8) + Array(content)
        return SHA256.hash(input).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}

struct StaticPodError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Wakes the agent when the manifest directory changes (inotify), so a new manifest starts
/// without waiting for the periodic check (kubelet watches the directory the same way).
final class DirectoryWatcher: @unchecked Sendable {
    private let fd: Int32

    init?(directory: String) {
        fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    /// Blocks until something changed or `timeout` passed; true when something changed.
    func wait(timeout: Duration) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(min(timeout.seconds * 1000, Double(Int32.max)))
        let ready = poll(&entry, 1, ms)
        guard ready > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 8192)
        _ = read(fd, &buffer, buffer.count)
        return true
    }
}
