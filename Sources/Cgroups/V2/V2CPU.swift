/// cgroup v2 `cpu`: weight and bandwidth. https://docs.kernel.org/admin-guide/cgroup-v2.html#cpu
enum V2CPU {
    /// The kernel's default `cpu.weight`, written when no CPU request or limit is set.
    static let defaultWeight: UInt64 = 100

    /// Writes `cpu.weight` and `cpu.max` as "quota period", or "max period" for no limit.
    static func apply(_ resources: CgroupResources, dir: String, files: CgroupFiles) throws(CgroupError) {
        try files.write(String(resources.cpuWeight ?? defaultWeight), to: dir + "/cpu.weight")
        let quota = resources.cpuQuotaMicros.map(String.init) ?? "max"
        try files.write("\(quota) \(CgroupResources.cpuPeriodMicros)", to: dir + "/cpu.max")
    }

    /// CPU time of the group and below in nanoseconds. `cpu.stat` exists in every v2 group,
    /// with or without the cpu controller; it counts microseconds.
    static func usageNanos(dir: String, files: CgroupFiles) throws(CgroupError) -> UInt64 {
        let path = dir + "/cpu.stat"
        guard let usec = try files.readKeyedValues(path)["usage_usec"] else {
            throw .parse(path: path, detail: "no usage_usec line")
        }
        return usec.multipliedReportingOverflow(by: 1000).partialValue
    }
}
