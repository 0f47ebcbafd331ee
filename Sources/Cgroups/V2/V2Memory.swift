/// cgroup v2 `memory`: limit, usage, working set, OOM kills.
/// https://docs.kernel.org/admin-guide/cgroup-v2.html#memory
enum V2Memory {
    /// Writes `memory.max` (`max` for none).
    ///
    /// A v2 kernel does not refuse a limit below the current usage: it reclaims and then
    /// OOM-kills processes of the group. Like kubelet before an in-place resize, a limit
    /// below `memory.current` is refused here instead, with `limitBelowUsage`.
    static func apply(_ resources: CgroupResources, dir: String, files: CgroupFiles) throws(CgroupError) {
        let path = dir + "/memory.max"
        if let limit = resources.effectiveMemoryLimit {
            if let text = try files.readIfPresent(dir + "/memory.current"),
               let usage = UInt64(text.trimmingWhitespace()), UInt64(limit) < usage {
                throw .limitBelowUsage(path: path, limit: limit, usage: usage)
            }
            try files.write(String(limit), to: path)
        } else {
            try files.write("max", to: path)
        }
        // memory.oom.group exists from Linux 4.19; older kernels kill one process, as v1 does.
        if files.fileExists(dir + "/memory.oom.group") {
            try files.write(resources.oomKillGroup ? "1" : "0", to: dir + "/memory.oom.group")
        }
    }

    /// `memory.current` and kubelet's working set, current minus `inactive_file`.
    static func usage(dir: String, files: CgroupFiles) throws(CgroupError) -> (usage: UInt64, workingSet: UInt64) {
        let usage = try files.readUInt64(dir + "/memory.current")
        let stat = try files.readKeyedValues(dir + "/memory.stat")
        return (usage, CgroupStats.workingSet(usage: usage, inactiveFile: stat["inactive_file"] ?? 0))
    }

    /// `oom_kill` from `memory.events`, which counts the group and its descendants (unless
    /// the hierarchy is mounted with `memory_localevents`).
    static func oomKills(dir: String, files: CgroupFiles) throws(CgroupError) -> UInt64 {
        try files.readKeyedValues(dir + "/memory.events")["oom_kill"] ?? 0
    }
}
