/// cgroup v1 `cpu` and `cpuacct`: weight, CFS quota and CPU time.
/// Files: https://docs.kernel.org/scheduler/sched-bwc.html and cgroup-v1/cpuacct.rst.
enum V1CPU {
    /// The kernel's default `cpu.shares`, written when no CPU request or limit is set so an
    /// update really removes an earlier weight.
    static let defaultShares: UInt64 = 1024

    /// Writes `cpu.shares`, then the period before the quota (a quota is only meaningful
    /// against its period; kubelet writes both), or `-1` for no quota.
    static func apply(_ resources: CgroupResources, dir: String, files: CgroupFiles) throws(CgroupError) {
        try files.write(String(resources.cpuShares ?? defaultShares), to: dir + "/cpu.shares")
        if let quota = resources.cpuQuotaMicros {
            try files.write(String(CgroupResources.cpuPeriodMicros), to: dir + "/cpu.cfs_period_us")
            try files.write(String(quota), to: dir + "/cpu.cfs_quota_us")
        } else {
            try files.write("-1", to: dir + "/cpu.cfs_quota_us")
        }
    }

    /// Total CPU time of the group and its children in nanoseconds (`cpuacct.usage`, which
    /// is hierarchical).
    static func usageNanos(cpuacctDir dir: String, files: CgroupFiles) throws(CgroupError) -> UInt64 {
        try files.readUInt64(dir + "/cpuacct.usage")
    }
}
