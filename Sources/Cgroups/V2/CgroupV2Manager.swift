import CShims

/// Manages groups on the cgroup v2 unified hierarchy mounted at `root`.
///
/// `create` enables cpu, memory, pids (and io when present) in `cgroup.subtree_control` of
/// the root and of every ancestor, then writes `cpu.weight`, `cpu.max`, `memory.max` and
/// `pids.max`. Controllers the host does not delegate are skipped unless a limit needs them.
///
/// Devices: v2 has no `devices.*` files; a group without `allowAllDevices` gets an eBPF
/// program (`BPF_PROG_TYPE_CGROUP_DEVICE`) allowing runc's default device list, as runc and
/// crun attach (`V2Devices`). Only on a real cgroup2 filesystem: a test tree of plain
/// directories has nothing to attach a program to.
public struct CgroupV2Manager: CgroupManager {
    /// The mount point of the unified hierarchy, e.g. `/sys/fs/cgroup`.
    public let root: String
    let files: CgroupFiles
    /// Whether device rules are enforced with eBPF programs (the root is a cgroup2 mount).
    let deviceControl: Bool

    /// Always `.v2`.
    public var mode: CgroupMode { .v2 }

    /// A manager for the cgroup2 filesystem mounted at `root`.
    public init(root: String) {
        self.init(root: root, files: CgroupFiles())
    }

    init(root: String, files: CgroupFiles) {
        var mount = Substring(root)
        while mount.count > 1 && mount.hasSuffix("/") { mount = mount.dropLast() }
        self.root = String(mount)
        self.files = files
        self.deviceControl = Self.isCgroup2(self.root)
    }

    /// statfs(2) says cgroup2 (CGROUP2_SUPER_MAGIC, include/uapi/linux/magic.h).
    static func isCgroup2(_ path: String) -> Bool {
        sl_statfs_type(path) == 0x6367_7270
    }

    public func create(_ group: String, resources: CgroupResources) throws {
        let (dir, controllers) = try makeDirectories(try CgroupPath(group), for: resources)
        try apply(resources, to: dir, controllers: controllers)
    }

    public func makeGroup(_ group: String) throws {
        _ = try makeDirectories(try CgroupPath(group), for: nil)
    }

    /// Makes the group's directory and its missing parents, each born with the controllers
    /// enabled; refuses before making the leaf when `resources` has a limit the leaf's
    /// controllers cannot enforce. Returns the leaf's directory and controllers.
    private func makeDirectories(_ path: CgroupPath, for resources: CgroupResources?) throws(CgroupError) -> (String, Set<String>) {
        var parent = root
        var childControllers: Set<String> = []
        for (index, component) in path.components.enumerated() {
            // Runs for the root and every ancestor, each before its child is made, so every
            // group is born with the controllers enabled.
            childControllers = try V2Controllers.enable(in: parent, files: files)
            if index == path.components.count - 1, let resources {
                try checkControllers(childControllers, for: resources, path: parent + "/" + component)
            }
            try files.makeDirectories(root: parent, components: [component])
            parent += "/" + component
        }
        return (parent, childControllers)
    }

    public func update(_ group: String, resources: CgroupResources) throws {
        let dir = try CgroupPath(group).directory(in: root)
        guard files.isDirectory(dir) else { throw CgroupError.groupNotFound(group: group, path: dir) }
        let controllers = V2Controllers.names(try files.read(dir + "/cgroup.controllers"))
        try checkControllers(controllers, for: resources, path: dir)
        try apply(resources, to: dir, controllers: controllers)
    }

    public func exists(_ group: String) -> Bool {
        guard let path = try? CgroupPath(group) else { return false }
        return files.isDirectory(path.directory(in: root))
    }

    public func procsFiles(for group: String) -> [String] {
        guard let path = try? CgroupPath(group) else { return [] }
        return [path.directory(in: root) + "/cgroup.procs"]
    }

    /// A cgroup namespace at the container's group and cgroup2 mounted inside it.
    public func containerView(for group: String) throws -> CgroupContainerView {
        _ = try CgroupPath(group)
        return .v2
    }

    public func prepareMigration() {
        MigrationWarmup.start([("", root)])
    }

    public func addProcess(_ pid: Int32, to group: String) throws {
        let dir = try CgroupPath(group).directory(in: root)
        try files.write(String(pid), to: dir + "/cgroup.procs")
    }

    public func processes(in group: String) throws -> [Int32] {
        try processes(inDirectory: try existingDirectory(group), group: group)
    }

    public func stats(_ group: String) throws -> CgroupStats {
        let dir = try existingDirectory(group)
        var stats = CgroupStats()
        stats.cpuUsageNanos = try V2CPU.usageNanos(dir: dir, files: files)
        // Files of controllers that are not enabled for the group are absent: report 0.
        if files.fileExists(dir + "/memory.current") {
            (stats.memoryUsageBytes, stats.memoryWorkingSetBytes) = try V2Memory.usage(dir: dir, files: files)
            stats.oomKills = try V2Memory.oomKills(dir: dir, files: files)
        }
        if files.fileExists(dir + "/pids.current") {
            stats.pidsCurrent = try V2Pids.current(dir: dir, files: files)
        }
        return stats
    }

    public func oomKillCount(_ group: String) throws -> UInt64 {
        let dir = try existingDirectory(group)
        guard files.fileExists(dir + "/memory.events") else {
            throw CgroupError.controllerUnavailable(controller: "memory", needed: "counting OOM kills", path: dir)
        }
        return try V2Memory.oomKills(dir: dir, files: files)
    }

    /// Writes `cgroup.kill` (Linux 5.14+), which SIGKILLs the whole subtree atomically with
    /// respect to forks. Older kernels: freeze with `cgroup.freeze` (5.2+) when present, kill,
    /// thaw; else kill in a loop. Then waits for the group to empty. A missing group is fine.
    public func killAll(_ group: String) throws {
        let dir = try CgroupPath(group).directory(in: root)
        guard files.isDirectory(dir) else { return }
        let list = { () throws(CgroupError) -> [Int32] in try self.processes(inDirectory: dir, group: group) }
        let deadline = MonotonicDeadline(millisecondsFromNow: 1000)
        if files.fileExists(dir + "/cgroup.kill") {
            try files.write("1", to: dir + "/cgroup.kill")
            try ProcessKiller.waitUntilEmpty(group: group, deadline: deadline, list: list)
            return
        }
        if files.fileExists(dir + "/cgroup.freeze") {
            let killed = Result { () throws(CgroupError) in
                try files.write("1", to: dir + "/cgroup.freeze")
                try waitFrozen(dir: dir, deadline: MonotonicDeadline(millisecondsFromNow: 500))
                try ProcessKiller.kill(try list())
            }
            // Thaw whatever happened: a group left frozen would hang its processes for good.
            try files.write("0", to: dir + "/cgroup.freeze")
            try killed.get()
        }
        try ProcessKiller.killUntilEmpty(group: group, deadline: deadline, list: list)
    }

    public func destroy(_ group: String) throws {
        let dir = try CgroupPath(group).directory(in: root)
        try files.removeSubtree(dir, deadline: MonotonicDeadline(millisecondsFromNow: 1000))
    }

    private func apply(_ resources: CgroupResources, to dir: String, controllers: Set<String>) throws(CgroupError) {
        if controllers.contains("cpu") { try V2CPU.apply(resources, dir: dir, files: files) }
        if controllers.contains("memory") { try V2Memory.apply(resources, dir: dir, files: files) }
        if controllers.contains("pids") { try V2Pids.apply(resources, dir: dir, files: files) }
        if deviceControl { try V2Devices.apply(resources, dir: dir) }
    }

    private func checkControllers(_ controllers: Set<String>, for resources: CgroupResources, path: String) throws(CgroupError) {
        let needs: [(controller: String, needed: String, wanted: Bool)] = [
            ("cpu", "a CPU request or limit", resources.cpuShares != nil),
            ("memory", "a memory limit", resources.effectiveMemoryLimit != nil),
            ("pids", "a pids limit", resources.effectivePidsLimit != nil),
        ]
        for need in needs where need.wanted && !controllers.contains(need.controller) {
            throw .controllerUnavailable(controller: need.controller, needed: need.needed, path: path)
        }
    }

    private func existingDirectory(_ group: String) throws(CgroupError) -> String {
        let dir = try CgroupPath(group).directory(in: root)
        guard files.isDirectory(dir) else { throw .groupNotFound(group: group, path: dir) }
        return dir
    }

    private func processes(inDirectory dir: String, group: String) throws(CgroupError) -> [Int32] {
        Array(Set(try files.processesInSubtree(dir))).sorted()
    }

    /// Waits for `cgroup.events` to say `frozen 1`; a task in uninterruptible sleep can
    /// delay it, and the caller then kills what it can anyway.
    private func waitFrozen(dir: String, deadline: MonotonicDeadline) throws(CgroupError) {
        while try files.readKeyedValues(dir + "/cgroup.events")["frozen"] != 1 && !deadline.hasPassed {
            MonotonicDeadline.sleep(milliseconds: 1)
        }
    }
}
