/// Usage of one cgroup and everything below it, as `/stats/summary` and node pressure need.
public struct CgroupStats: Sendable, Equatable {
    /// Total CPU time consumed (v1 `cpuacct.usage`; v2 `cpu.stat usage_usec` × 1000).
    public var cpuUsageNanos: UInt64
    /// Memory charged to the group, page cache included (v1 `memory.usage_in_bytes`, v2 `memory.current`).
    public var memoryUsageBytes: UInt64
    /// Usage minus inactive file pages, what kubelet calls the working set and evicts on
    /// (v1 `total_inactive_file`, v2 `inactive_file` from `memory.stat`); never below 0.
    public var memoryWorkingSetBytes: UInt64
    /// Tasks in the group (`pids.current`), 0 when the pids controller is unavailable.
    public var pidsCurrent: UInt64
    /// Processes the kernel OOM-killed in the group or below it.
    public var oomKills: UInt64

    /// Creates stats.
    public init(
        cpuUsageNanos: UInt64 = 0,
        memoryUsageBytes: UInt64 = 0,
        memoryWorkingSetBytes: UInt64 = 0,
        pidsCurrent: UInt64 = 0,
        oomKills: UInt64 = 0
    ) {
        self.cpuUsageNanos = cpuUsageNanos
        self.memoryUsageBytes = memoryUsageBytes
        self.memoryWorkingSetBytes = memoryWorkingSetBytes
        self.pidsCurrent = pidsCurrent
        self.oomKills = oomKills
    }

    /// kubelet's working set: usage minus inactive file pages, clamped at zero.
    static func workingSet(usage: UInt64, inactiveFile: UInt64) -> UInt64 {
        usage > inactiveFile ? usage - inactiveFile : 0
    }
}
