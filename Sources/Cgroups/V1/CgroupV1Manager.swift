#if canImport(Glibc)
import Glibc
#endif

/// Manages groups on cgroup v1 (legacy or hybrid hosts): one directory per group in each
/// controller hierarchy swiftlet uses (cpu, cpuacct, memory, pids, devices, freezer).
///
/// The hierarchies are given as controller → mount point, so the manager can run against a
/// fake tree in tests; co-mounted controllers (`cpu,cpuacct`) share one mount point and get
/// one directory. Controllers that are not mounted are skipped, unless a resource needs
/// them: then `create` fails with `controllerUnavailable`. Without `devices`, device access
/// is not restricted (`swiftlet check-config` reports it).
///
/// `cpuset` is not used: a new v1 cpuset group starts with empty `cpuset.cpus`/`mems` and
/// cannot take processes until both are copied from the parent, and swiftlet does not pin
/// CPUs yet. Processes therefore stay in their cpuset group, as with kubelet's default
/// `none` CPU manager policy where every container may use every CPU.
public struct CgroupV1Manager: CgroupManager {
    /// The controllers swiftlet uses on v1, in the order their directories are handled.
    public static let controllers = ["cpu", "cpuacct", "memory", "pids", "devices", "freezer"]

    /// Controller name → mount point (only the controllers in `controllers`).
    public let hierarchies: [String: String]
    let files: CgroupFiles

    /// Always `.v1`.
    public var mode: CgroupMode { .v1 }

    /// A manager over the given hierarchies, e.g. `["cpu": "/sys/fs/cgroup/cpu,cpuacct",
    /// "cpuacct": "/sys/fs/cgroup/cpu,cpuacct", "memory": "/sys/fs/cgroup/memory", ...]`.
    public init(hierarchies: [String: String]) {
        self.init(hierarchies: hierarchies, files: CgroupFiles())
    }

    init(hierarchies: [String: String], files: CgroupFiles) {
        var known: [String: String] = [:]
        for (controller, path) in hierarchies where Self.controllers.contains(controller) {
            var mount = Substring(path)
            while mount.count > 1 && mount.hasSuffix("/") { mount = mount.dropLast() }
            known[controller] = String(mount)
        }
        self.hierarchies = known
        self.files = files
    }

    /// The distinct mount points, in `controllers` order (co-mounted controllers once).
    var mountPoints: [String] {
        var seen: [String] = []
        for controller in Self.controllers {
            if let mount = hierarchies[controller], !seen.contains(mount) { seen.append(mount) }
        }
        return seen
    }

    /// The group's directory in the hierarchy of `controller`, nil when it is not mounted.
    func directory(_ controller: String, _ path: CgroupPath) -> String? {
        hierarchies[controller].map { path.directory(in: $0) }
    }

    public func create(_ group: String, resources: CgroupResources) throws {
        let path = try CgroupPath(group)
        try checkControllers(for: resources, group: path)
        for mount in mountPoints {
            try files.makeDirectories(root: mount, components: path.components)
        }
        try apply(resources, to: path)
    }

    public func update(_ group: String, resources: CgroupResources) throws {
        let path = try CgroupPath(group)
        try checkControllers(for: resources, group: path)
        if let missing = mountPoints.map({ path.directory(in: $0) }).first(where: { !files.isDirectory($0) }) {
            throw CgroupError.groupNotFound(group: group, path: missing)
        }
        try apply(resources, to: path)
    }

    public func exists(_ group: String) -> Bool {
        guard let path = try? CgroupPath(group), !mountPoints.isEmpty else { return false }
        return mountPoints.allSatisfy { files.isDirectory(path.directory(in: $0)) }
    }

    public func procsFiles(for group: String) -> [String] {
        guard let path = try? CgroupPath(group) else { return [] }
        return mountPoints.map { path.directory(in: $0) + "/cgroup.procs" }
    }

    public func addProcess(_ pid: Int32, to group: String) throws {
        let path = try CgroupPath(group)
        for mount in mountPoints {
            try files.write(String(pid), to: path.directory(in: mount) + "/cgroup.procs")
        }
    }

    public func processes(in group: String) throws -> [Int32] {
        try processes(in: try CgroupPath(group))
    }

    private func processes(in path: CgroupPath) throws(CgroupError) -> [Int32] {
        let present = try presentDirectories(path)
        return try Self.union(present.map { dir throws(CgroupError) in try files.processesInSubtree(dir) })
    }

    public func stats(_ group: String) throws -> CgroupStats {
        let path = try CgroupPath(group)
        _ = try presentDirectories(path)
        var stats = CgroupStats()
        if let dir = directory("cpuacct", path) {
            stats.cpuUsageNanos = try V1CPU.usageNanos(cpuacctDir: dir, files: files)
        }
        if let dir = directory("memory", path) {
            (stats.memoryUsageBytes, stats.memoryWorkingSetBytes) = try V1Memory.usage(dir: dir, files: files)
            stats.oomKills = try V1Memory.oomKills(dir: dir, files: files)
        }
        if let dir = directory("pids", path) {
            stats.pidsCurrent = try V1Pids.current(dir: dir, files: files)
        }
        return stats
    }

    public func oomKillCount(_ group: String) throws -> UInt64 {
        let path = try CgroupPath(group)
        guard let dir = directory("memory", path) else {
            throw CgroupError.controllerUnavailable(controller: "memory", needed: "counting OOM kills", path: group)
        }
        return try V1Memory.oomKills(dir: dir, files: files)
    }

    /// Freezes the group (children included), SIGKILLs every process, thaws so the signals
    /// are delivered, then waits for the group to empty, as runc's `signalAllProcesses`
    /// does on v1. Without a freezer it kills in a loop until no process is left.
    /// A group that does not exist has nothing to kill.
    public func killAll(_ group: String) throws {
        let path = try CgroupPath(group)
        guard mountPoints.contains(where: { files.isDirectory(path.directory(in: $0)) }) else { return }
        let list = { () throws(CgroupError) -> [Int32] in try self.processes(in: path) }
        // Nothing to kill (the usual case after a container's init exited): skip the freeze,
        // whose state polling costs milliseconds.
        if try list().isEmpty { return }
        if let freezer = directory("freezer", path), files.isDirectory(freezer) {
            let killed = Result { () throws(CgroupError) in
                try V1Freezer.freeze(dir: freezer, files: files, deadline: MonotonicDeadline(millisecondsFromNow: 500))
                try ProcessKiller.kill(try list())
            }
            // Thaw whatever happened: a group left frozen would hang its processes for good.
            try V1Freezer.thaw(dir: freezer, files: files)
            try killed.get()
        }
        try ProcessKiller.killUntilEmpty(group: group, deadline: MonotonicDeadline(millisecondsFromNow: 1000), list: list)
    }

    public func destroy(_ group: String) throws {
        let path = try CgroupPath(group)
        let deadline = MonotonicDeadline(millisecondsFromNow: 1000)
        for mount in mountPoints {
            try files.removeSubtree(path.directory(in: mount), deadline: deadline)
        }
    }

    /// Writes the resources controller by controller; the checks ran before any mkdir.
    private func apply(_ resources: CgroupResources, to path: CgroupPath) throws(CgroupError) {
        if let dir = directory("cpu", path) { try V1CPU.apply(resources, dir: dir, files: files) }
        if let dir = directory("memory", path) { try V1Memory.apply(resources, dir: dir, files: files) }
        if let dir = directory("pids", path) { try V1Pids.apply(resources, dir: dir, files: files) }
        if let dir = directory("devices", path) { try V1Devices.apply(resources, dir: dir, files: files) }
    }

    /// Fails before touching anything when a requested limit has no controller to enforce it.
    private func checkControllers(for resources: CgroupResources, group: CgroupPath) throws(CgroupError) {
        let needs: [(controller: String, needed: String, wanted: Bool)] = [
            ("cpu", "a CPU request or limit", resources.cpuShares != nil),
            ("memory", "a memory limit", resources.effectiveMemoryLimit != nil),
            ("pids", "a pids limit", resources.effectivePidsLimit != nil),
        ]
        for need in needs where need.wanted && hierarchies[need.controller] == nil {
            throw .controllerUnavailable(controller: need.controller, needed: need.needed, path: group.relative)
        }
    }

    /// The group's directories that exist; `groupNotFound` when there are none.
    private func presentDirectories(_ path: CgroupPath) throws(CgroupError) -> [String] {
        let present = mountPoints.map { path.directory(in: $0) }.filter { files.isDirectory($0) }
        if present.isEmpty {
            let first = mountPoints.first.map { path.directory(in: $0) } ?? path.relative
            throw .groupNotFound(group: path.relative, path: first)
        }
        return present
    }

    /// Sorted pids without duplicates (a process is listed once per hierarchy).
    static func union(_ lists: [[Int32]]) -> [Int32] {
        Array(Set(lists.joined())).sorted()
    }
}
