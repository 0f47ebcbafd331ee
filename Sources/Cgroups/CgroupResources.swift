/// The limits of one cgroup, in Kubernetes units, with kubelet's conversions to kernel values.
///
/// `create` and `update` apply the whole value: a nil (or zero) limit means "no limit" and is
/// written as such (`-1` / `max`), so updating a group to a value without a limit removes it.
/// A nil CPU request *and* limit leaves the kernel's default weight (1024 shares, weight 100);
/// pass `cpuRequestMillis: 0` to get kubelet's BestEffort minimum (2 shares).
public struct CgroupResources: Sendable, Equatable {
    /// CPU limit in millicores (`resources.limits.cpu`); nil or 0 means no quota.
    public var cpuLimitMillis: Int64?
    /// CPU request in millicores (`resources.requests.cpu`), which sets the relative weight.
    public var cpuRequestMillis: Int64?
    /// Memory limit in bytes; nil or 0 means no limit.
    public var memoryLimitBytes: Int64?
    /// Maximum number of tasks (processes and threads); nil or 0 means no limit.
    public var pidsLimit: Int64?
    /// Leave every device accessible (privileged containers). On cgroup v1 a group without it
    /// gets runc's default device list. Device rules are inherited and can only narrow, so
    /// groups that hold other groups (pods, as kubelet's `SkipDevices`) should set this, or a
    /// privileged container below them cannot be granted all devices.
    /// On cgroup v2 the same rules are an eBPF device program attached to the group.
    public var allowAllDevices: Bool = false
    /// cgroup v2 `memory.oom.group`: an OOM kill takes every process of the group, not just
    /// the largest. kubelet sets it on container groups on v2 (since 1.28, unless
    /// `singleProcessOOMKill`), so a container is never left half-killed. No v1 equivalent.
    public var oomKillGroup: Bool = false

    /// Creates resources; every limit defaults to none.
    public init(
        cpuLimitMillis: Int64? = nil,
        cpuRequestMillis: Int64? = nil,
        memoryLimitBytes: Int64? = nil,
        pidsLimit: Int64? = nil,
        allowAllDevices: Bool = false,
        oomKillGroup: Bool = false
    ) {
        self.cpuLimitMillis = cpuLimitMillis
        self.cpuRequestMillis = cpuRequestMillis
        self.memoryLimitBytes = memoryLimitBytes
        self.pidsLimit = pidsLimit
        self.allowAllDevices = allowAllDevices
        self.oomKillGroup = oomKillGroup
    }

    // Constants from kubelet, pkg/kubelet/cm/helpers_linux.go
    // (https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/cm/helpers_linux.go).
    /// The smallest `cpu.shares` kubelet writes (the kernel's own minimum).
    public static let minShares: UInt64 = 2
    /// The largest `cpu.shares` kubelet writes (`MaxShares`).
    public static let maxShares: UInt64 = 262_144
    /// The CFS period kubelet uses by default, 100 ms in microseconds.
    public static let cpuPeriodMicros: Int64 = 100_000
    /// The smallest quota kubelet writes (`MinQuotaPeriod`), 1 ms.
    public static let minQuotaMicros: Int64 = 1000

    /// `cpu.shares` for cgroup v1: `max(2, millis*1024/1000)`, at most 262144, from the
    /// request, or from the limit when the request is unset or zero (kuberuntime does this
    /// for a container with only a limit). nil when neither is set.
    public var cpuShares: UInt64? {
        if cpuRequestMillis == nil && cpuLimitMillis == nil { return nil }
        let request = cpuRequestMillis ?? 0
        let limit = cpuLimitMillis ?? 0
        return Self.shares(forMillis: request == 0 && limit != 0 ? limit : request)
    }

    /// CFS quota in microseconds per `cpuPeriodMicros`: `millis*100000/1000`, at least 1000;
    /// nil when there is no CPU limit.
    public var cpuQuotaMicros: Int64? {
        guard let limit = cpuLimitMillis, limit > 0 else { return nil }
        let (product, overflow) = limit.multipliedReportingOverflow(by: Self.cpuPeriodMicros)
        if overflow { return Int64.max / 1000 }
        return max(Self.minQuotaMicros, product / 1000)
    }

    /// `cpu.weight` for cgroup v2: `1 + ((shares-2)*9999)/262142` (kubelet's
    /// `CpuSharesToCpuWeight`, mapping [2, 262144] onto [1, 10000]).
    public var cpuWeight: UInt64? {
        cpuShares.map { 1 + (($0 - 2) * 9999) / 262_142 }
    }

    /// The memory limit to write, nil for none.
    var effectiveMemoryLimit: Int64? {
        guard let limit = memoryLimitBytes, limit > 0 else { return nil }
        return limit
    }

    /// The pids limit to write, nil for none.
    var effectivePidsLimit: Int64? {
        guard let limit = pidsLimit, limit > 0 else { return nil }
        return limit
    }

    /// kubelet's `MilliCPUToShares`.
    static func shares(forMillis millis: Int64) -> UInt64 {
        if millis <= 0 { return minShares }
        let (product, overflow) = millis.multipliedReportingOverflow(by: 1024)
        if overflow { return maxShares }
        return min(maxShares, max(minShares, UInt64(product / 1000)))
    }
}
