import Foundation
import Glibc
import Images
import KubeAPI
import Synchronization

/// kubelet's file source (pkg/kubelet/config/file.go): every file in the manifest directory
/// holds one Pod; hidden files are ignored. A pod read from a file is named
/// `<name>-<node name>`, defaults to namespace "default", and gets a uid derived from the node,
/// the file and its content — so editing a manifest replaces the pod, as on Kubernetes.
public struct StaticPodSource: Sendable {
    public let directory: String
    public let nodeName: String
    /// Each file's last outcome by path, kept while its bytes stay the same: a scan runs at
    /// every inotify event, and parsing every manifest each time made starting 500 static pods
    /// quadratic (kubelet's file source re-reads only the file an event names).
    private let parsed = ParsedManifests()

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
        var names: Set<String> = []
        var seen: [String: ParsedManifests.Entry] = [:]
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for file in files.sorted() where !file.hasPrefix(".") {
            let path = directory + "/" + file
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else { continue }
            let content = FileManager.default.contents(atPath: path)
            let outcome: Result<Pod, StaticPodError>
            if let content, let cached = parsed.entry(path), cached.content == content {
                outcome = cached.outcome
            } else {
                do { outcome = .success(try load(path, content: content)) } catch { outcome = .failure(StaticPodError("\(error)")) }
            }
            if let content { seen[path] = ParsedManifests.Entry(content: content, outcome: outcome) }
            switch outcome {
            case .success(let pod):
                guard let uid = pod.metadata.uid else { continue }
                let name = "\(pod.metadata.namespace ?? "")/\(pod.metadata.name ?? "")"
                guard names.insert(name).inserted else {
                    problems.append(Problem(file: path, message: "pod \"\(pod.metadata.name ?? "")\" in namespace \"\(pod.metadata.namespace ?? "")\" is defined by another manifest too; ignoring this one"))
                    continue
                }
                pods[uid] = pod
            case .failure(let error):
                problems.append(Problem(file: path, message: error.description))
            }
        }
        parsed.replace(with: seen)
        return (pods, problems)
    }

    /// Reads, defaults, names and validates one manifest (`content`: the file's bytes, when
    /// already read).
    public func load(_ path: String, content: Data? = nil) throws -> Pod {
        guard let data = content ?? FileManager.default.contents(atPath: path) else {
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

/// The manifests `StaticPodSource.scan` parsed, by path, with the bytes they were parsed from
/// (compared whole: a file's times have the kernel's tick granularity, so two writes of the same
/// size within one tick would look unchanged; reading a manifest costs far less than parsing).
final class ParsedManifests: Sendable {
    /// A class, so the dictionary's buckets hold a pointer: a Pod inline is over a KiB, and a
    /// dictionary has more buckets than entries (256 for 100 manifests, 300 KB).
    final class Entry: Sendable {
        let content: Data
        let outcome: Result<Pod, StaticPodError>

        init(content: Data, outcome: Result<Pod, StaticPodError>) {
            self.content = content
            self.outcome = outcome
        }
    }

    private let entries = Mutex<[String: Entry]>([:])

    func entry(_ path: String) -> Entry? { entries.withLock { $0[path] } }

    /// Keeps only the files of the latest scan.
    func replace(with seen: [String: Entry]) { entries.withLock { $0 = seen } }
}
