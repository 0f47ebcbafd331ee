/// The cgroup filesystems found in a mounts file (`/proc/self/mounts` format) below a root.
///
/// Detection reads the mount table rather than probing `/sys/fs/cgroup`, the way runc and
/// kubelet do, so tests can feed a sample file whose mount points lie in a temp dir.
struct CgroupMountTable: Sendable, Equatable {
    /// Controller names that can appear in the options of a v1 (`cgroup`) mount.
    static let knownV1Controllers: Set<String> = [
        "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio",
        "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc",
    ]

    /// v1 controller → mount point (co-mounted controllers share one).
    var v1: [String: String] = [:]
    /// Named v1 hierarchies without controllers: `name=systemd` → its mount point.
    var namedV1: [String: String] = [:]
    /// The cgroup2 mount: the one at the root when there is one, else the first below it.
    var unified: String?

    /// Parses `text`, keeping the mounts at or below `root`.
    init(parsing text: String, root: String) {
        let root = Self.normalized(root)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 4 else { continue }
            let mountPoint = Self.normalized(Self.unescape(String(fields[1])))
            guard mountPoint == root || mountPoint.hasPrefix(root == "/" ? "/" : root + "/") else { continue }
            let options = fields[3].split(separator: ",").map(String.init)
            switch fields[2] {
            case "cgroup2":
                if mountPoint == root || unified == nil { unified = mountPoint }
            case "cgroup":
                let controllers = options.filter { Self.knownV1Controllers.contains($0) }
                if controllers.isEmpty, let name = options.first(where: { $0.hasPrefix("name=") }), namedV1[name] == nil {
                    namedV1[name] = mountPoint
                }
                for controller in controllers where v1[controller] == nil {
                    v1[controller] = mountPoint
                }
            default:
                continue
            }
        }
    }

    /// v1 when any controller swiftlet uses is mounted as v1 (legacy or hybrid), else v2
    /// when cgroup2 is mounted, else nil.
    var mode: CgroupMode? {
        if CgroupV1Manager.controllers.contains(where: { v1[$0] != nil }) { return .v1 }
        return unified == nil ? nil : .v2
    }

    /// `/proc/mounts` escapes space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let source = Array(field.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "\\"), index + 3 < source.count,
               let value = UInt8(String(decoding: source[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func normalized(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
