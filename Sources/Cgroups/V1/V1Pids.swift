/// cgroup v1 `pids`: task limit and count. Files: https://docs.kernel.org/admin-guide/cgroup-v1/pids.html
enum V1Pids {
    /// Writes `pids.max` (`max` for none).
    static func apply(_ resources: CgroupResources, dir: String, files: CgroupFiles) throws(CgroupError) {
        try files.write(resources.effectivePidsLimit.map(String.init) ?? "max", to: dir + "/pids.max")
    }

    /// Tasks in the group and below (`pids.current` is hierarchical).
    static func current(dir: String, files: CgroupFiles) throws(CgroupError) -> UInt64 {
        try files.readUInt64(dir + "/pids.current")
    }
}
