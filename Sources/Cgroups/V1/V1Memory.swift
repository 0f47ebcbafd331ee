#if canImport(Glibc)
import Glibc
#endif

/// cgroup v1 `memory`: limit, usage, working set and OOM kills.
/// Files: https://docs.kernel.org/admin-guide/cgroup-v1/memory.html
enum V1Memory {
    /// Writes `memory.limit_in_bytes` (`-1` for none). The kernel first reclaims down to a
    /// lower limit and answers EBUSY when it cannot; that becomes `limitBelowUsage`.
    static func apply(_ resources: CgroupResources, dir: String, files: CgroupFiles) throws(CgroupError) {
        let path = dir + "/memory.limit_in_bytes"
        let limit = resources.effectiveMemoryLimit
        do {
            try files.write(limit.map(String.init) ?? "-1", to: path)
        } catch {
            if case .write(_, _, let err) = error, err == EBUSY, let limit {
                let usage = try? files.readUInt64(dir + "/memory.usage_in_bytes")
                throw .limitBelowUsage(path: path, limit: limit, usage: usage)
            }
            throw error
        }
    }

    /// Usage (hierarchical since `use_hierarchy` is always 1 on current kernels) and
    /// kubelet's working set, usage minus `total_inactive_file`.
    static func usage(dir: String, files: CgroupFiles) throws(CgroupError) -> (usage: UInt64, workingSet: UInt64) {
        let usage = try files.readUInt64(dir + "/memory.usage_in_bytes")
        let stat = try files.readKeyedValues(dir + "/memory.stat")
        return (usage, CgroupStats.workingSet(usage: usage, inactiveFile: stat["total_inactive_file"] ?? 0))
    }

    /// OOM kills in the group and below it. v1 counts `oom_kill` in `memory.oom_control` only
    /// in the group of the killed process (the kernel propagates the event to ancestors only
    /// on v2), so the subtree is summed to match v2's hierarchical `memory.events`.
    /// Kernels before 4.13 have no `oom_kill` line: 0.
    static func oomKills(dir: String, files: CgroupFiles) throws(CgroupError) -> UInt64 {
        guard files.isDirectory(dir) else {
            throw .read(path: dir + "/memory.oom_control", errno: ENOENT)
        }
        var total: UInt64 = 0
        for group in try files.subtreeBottomUp(dir) {
            // A child removed while walking is fine: its kills are gone with it.
            guard let text = try files.readIfPresent(group + "/memory.oom_control") else { continue }
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count == 2, fields[0] == "oom_kill", let count = UInt64(fields[1]) {
                    total += count
                }
            }
        }
        return total
    }
}
