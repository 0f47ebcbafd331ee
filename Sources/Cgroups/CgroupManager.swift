/// Creates, limits, observes and removes the cgroups of pods and containers.
///
/// Implemented by `CgroupV1Manager` (legacy and hybrid hosts) and `CgroupV2Manager`;
/// `Cgroups.detect()` picks the one that fits the host. Groups are relative paths below the
/// cgroup root, such as `swiftlet/pod<uid>/<container>`.
public protocol CgroupManager: Sendable {
    /// The interface this manager drives.
    var mode: CgroupMode { get }
    /// Creates `group` (and its missing parents, without limits) and applies `resources`.
    /// Idempotent: creating an existing group applies the resources again.
    func create(_ group: String, resources: CgroupResources) throws
    /// Creates `group` and its missing parents and writes no limits: for a group whose limits
    /// `update` writes later (making a cgroup takes the kernel's cgroup_mutex; `prepareMigration`
    /// holds it for an RCU grace period, so the runtime makes a pod's groups before that).
    func makeGroup(_ group: String) throws
    /// Applies `resources` to an existing group (nil limits are removed).
    func update(_ group: String, resources: CgroupResources) throws
    /// Whether the group exists in every hierarchy this manager uses.
    func exists(_ group: String) -> Bool
    /// The cgroup.procs files (one per hierarchy) a freshly cloned child writes "0" into to join the group
    /// before execve (the C child cannot allocate, so it gets ready-made paths).
    func procsFiles(for group: String) -> [String]
    /// What a container in `group` sees at `/sys/fs/cgroup`: its own groups, as runc mounts them.
    func containerView(for group: String) throws -> CgroupContainerView
    /// Takes the kernel's migration lock on a thread of its own, so the cgroup.procs writes of a
    /// container about to start do not wait for an RCU grace period (`MigrationWarmup`).
    /// Returns at once; best effort.
    func prepareMigration()
    /// Moves process `pid` (all its threads) into the group.
    func addProcess(_ pid: Int32, to group: String) throws
    /// The processes in the group and every group below it, sorted, without duplicates.
    func processes(in group: String) throws -> [Int32]
    /// CPU, memory, pids and OOM figures of the group, children included.
    func stats(_ group: String) throws -> CgroupStats
    /// How many processes the kernel OOM-killed in the group or below it.
    func oomKillCount(_ group: String) throws -> UInt64
    /// SIGKILLs every process in the group and below it, without racing forks (v2
    /// `cgroup.kill`, else freeze, kill, thaw), and waits up to about a second for them to go.
    func killAll(_ group: String) throws
    /// Removes the group and every group below it in every hierarchy, bottom-up, retrying
    /// EBUSY for about a second while killed processes exit. A missing group is fine.
    func destroy(_ group: String) throws
}
