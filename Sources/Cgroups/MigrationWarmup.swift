import CShims

/// Makes the next cgroup migrations fast by taking the kernel's migration lock early, on a thread
/// of its own (`sl_cgroup_warm_migration`): the first write to any cgroup.procs after a quiet spell
/// waits for an RCU grace period (4-8 ms on a quiet 2-core VM here, 24 ms under load; crun waits
/// the same), and the ones in the grace period after it do not. A container joins its groups moments
/// after its pod's sandbox is made, so the agent starts this as the sandbox is being made, after
/// the pod's and its first containers' groups: the kernel waits for the grace period holding
/// cgroup_mutex, which a cgroup mkdir takes too.
///
/// The write puts this process into the group it is already in, which the kernel skips (a
/// migration whose source and destination are the same css_set moves nothing), in the pids
/// hierarchy (or a named one, memory, or the cgroup2 tree: any will do, the lock is global).
enum MigrationWarmup {
    /// Starts a warm-up unless one is running. `mounts` are the candidate hierarchies, in order of
    /// preference, as (the name in /proc/self/cgroup's controller list, mount point); "" names the
    /// cgroup2 tree.
    static func start(_ mounts: [(controller: String, mount: String)]) {
        guard let path = procsFile(mounts, selfCgroup: selfCgroup) else { return }
        _ = sl_cgroup_warm_migration(path)
    }

    /// This process's /proc/self/cgroup, read once: nothing moves the agent between groups.
    private static let selfCgroup = (try? CgroupFiles().read("/proc/self/cgroup")) ?? ""

    /// The cgroup.procs of this process's own group in the first of `mounts` that
    /// /proc/self/cgroup names.
    static func procsFile(_ mounts: [(controller: String, mount: String)], selfCgroup: String) -> String? {
        let groups = SelfCgroup.groups(selfCgroup)
        for (controller, mount) in mounts {
            guard let group = groups[controller], group.hasPrefix("/"), !group.contains("/..") else { continue }
            return mount + (group == "/" ? "" : group) + "/cgroup.procs"
        }
        return nil
    }
}
