#if canImport(Glibc)
import Glibc
#endif

/// Manages groups on cgroup v1 (legacy or hybrid hosts): one directory per group in each
/// hierarchy.
///
/// The hierarchies are given as controller → mount point, so the manager can run against a
/// fake tree in tests; co-mounted controllers (`cpu,cpuacct`) share one mount point and get
/// one directory. Limits and stats use `controllers` (cpu, cpuacct, memory, pids, devices,
/// freezer); controllers that are not mounted are skipped, unless a resource needs them: then
/// `create` fails with `controllerUnavailable`. Without `devices`, device access is not
/// restricted (`swiftlet check-config` reports it).
///
/// Every other mounted hierarchy is joined too, as runc's fs manager does (its subsystem list,
/// `name=systemd`, and on a hybrid host the cgroup2 tree): cpuset, blkio, perf_event... then
/// account the container's own group rather than the root one, and the container's view of
/// `/sys/fs/cgroup` (`containerView`) is its own group everywhere. A new v1 cpuset group starts
/// with empty `cpuset.cpus`/`mems` and takes no process until both are set, so each level is
/// given its parent's (runc's `cpusetEnsureParent`): no CPU pinning, as with kubelet's default
/// `none` CPU manager policy.
public struct CgroupV1Manager: CgroupManager {
    /// The controllers swiftlet sets limits with and reads stats from, in the order their
    /// directories are handled.
    public static let controllers = ["cpu", "cpuacct", "memory", "pids", "devices", "freezer"]
    /// The controllers a container only joins (runc's other v1 subsystems).
    public static let joinedControllers = ["cpuset", "blkio", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc"]

    /// Controller name, or `name=<name>` for a named hierarchy, → mount point.
    public let hierarchies: [String: String]
    /// The cgroup2 tree of a hybrid host (no controllers; systemd tracks processes there),
    /// joined as runc does in hybrid mode; nil elsewhere.
    public let unified: String?
    let files: CgroupFiles

    /// Always `.v1`.
    public var mode: CgroupMode { .v1 }

    /// A manager over the given hierarchies, e.g. `["cpu": "/sys/fs/cgroup/cpu,cpuacct",
    /// "cpuacct": "/sys/fs/cgroup/cpu,cpuacct", "memory": "/sys/fs/cgroup/memory",
    /// "name=systemd": "/sys/fs/cgroup/systemd", ...]`, and a hybrid host's cgroup2 tree.
    public init(hierarchies: [String: String], unified: String? = nil) {
        self.init(hierarchies: hierarchies, unified: unified, files: CgroupFiles())
    }

    init(hierarchies: [String: String], unified: String? = nil, files: CgroupFiles) {
        var known: [String: String] = [:]
        for (controller, path) in hierarchies
        where Self.controllers.contains(controller) || Self.joinedControllers.contains(controller) || controller.hasPrefix("name=") {
            known[controller] = Self.trimmed(path)
        }
        self.hierarchies = known
        self.unified = unified.map(Self.trimmed)
        self.files = files
    }

    private static func trimmed(_ path: String) -> String {
        var mount = Substring(path)
        while mount.count > 1 && mount.hasSuffix("/") { mount = mount.dropLast() }
        return String(mount)
    }

    /// The distinct mount points of the limit controllers, in `controllers` order.
    var limitMountPoints: [String] {
        Self.distinct(Self.controllers.compactMap { hierarchies[$0] })
    }

    /// The distinct v1 mount points: limit controllers, joined controllers, named hierarchies.
    var v1MountPoints: [String] {
        let named = hierarchies.keys.filter { $0.hasPrefix("name=") }.sorted().compactMap { hierarchies[$0] }
        return Self.distinct((Self.controllers + Self.joinedControllers).compactMap { hierarchies[$0] } + named)
    }

    /// Every mount point a group lives in: the v1 ones, then the hybrid cgroup2 tree.
    var mountPoints: [String] {
        Self.distinct(v1MountPoints + (unified.map { [$0] } ?? []))
    }

    private static func distinct(_ paths: [String]) -> [String] {
        var seen: [String] = []
        for path in paths where !seen.contains(path) { seen.append(path) }
        return seen
    }

    /// The group's directory in the hierarchy of `controller`, nil when it is not mounted.
    func directory(_ controller: String, _ path: CgroupPath) -> String? {
        hierarchies[controller].map { path.directory(in: $0) }
    }

    public func create(_ group: String, resources: CgroupResources) throws {
        let path = try CgroupPath(group)
        try checkControllers(for: resources, group: path)
        try makeDirectories(path)
        try apply(resources, to: path)
    }

    public func makeGroup(_ group: String) throws {
        try makeDirectories(try CgroupPath(group))
    }

    /// The group's directory in every hierarchy (cpuset's with the parent's cpus and mems).
    private func makeDirectories(_ path: CgroupPath) throws(CgroupError) {
        let cpuset = hierarchies["cpuset"]
        for mount in mountPoints {
            if mount == cpuset {
                try V1Cpuset.makeDirectories(root: mount, components: path.components, files: files)
            } else {
                try files.makeDirectories(root: mount, components: path.components)
            }
        }
    }

    public func update(_ group: String, resources: CgroupResources) throws {
        let path = try CgroupPath(group)
        try checkControllers(for: resources, group: path)
        if let missing = limitMountPoints.map({ path.directory(in: $0) }).first(where: { !files.isDirectory($0) }) {
            throw CgroupError.groupNotFound(group: group, path: missing)
        }
        try apply(resources, to: path)
    }

    /// Whether the group exists where its limits and stats live; groups made before swiftlet
    /// joined the other hierarchies count too.
    public func exists(_ group: String) -> Bool {
        let mounts = limitMountPoints.isEmpty ? mountPoints : limitMountPoints
        guard let path = try? CgroupPath(group), !mounts.isEmpty else { return false }
        return mounts.allSatisfy { files.isDirectory(path.directory(in: $0)) }
    }

    /// The limit hierarchies' files always (a missing one is an error worth seeing); the joined
    /// ones where the group has a directory (not in groups an older swiftlet made, which an exec
    /// probe may still enter).
    public func procsFiles(for group: String) -> [String] {
        guard let path = try? CgroupPath(group) else { return [] }
        let limits = limitMountPoints
        return mountPoints.filter { limits.contains($0) || files.isDirectory(path.directory(in: $0)) }
            .map { path.directory(in: $0) + "/cgroup.procs" }
    }

    /// A tmpfs with the container's own directory of every v1 hierarchy (not the hybrid cgroup2
    /// tree: runc binds only `cgroup` mounts), and a symlink per co-mounted controller.
    public func containerView(for group: String) throws -> CgroupContainerView {
        let path = try CgroupPath(group)
        var binds: [CgroupContainerView.Hierarchy] = []
        var links: [CgroupContainerView.Link] = []
        for mount in v1MountPoints {
            let name = mount.split(separator: "/").last.map(String.init) ?? mount
            binds.append(.init(name: name, source: path.directory(in: mount)))
            guard name.contains(",") else { continue }
            for controller in name.split(separator: ",").map(String.init) where controller != name {
                links.append(.init(name: controller, target: name))
            }
        }
        // A link must not shadow a hierarchy mounted under the same name.
        let names = Set(binds.map(\.name))
        return .v1(hierarchies: binds, links: links.filter { !names.contains($0.name) })
    }

    public func prepareMigration() {
        let preferred = ["pids", "name=systemd", "memory"].compactMap { key in hierarchies[key].map { (key, $0) } }
        MigrationWarmup.start(preferred + (unified.map { [("", $0)] } ?? []))
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
