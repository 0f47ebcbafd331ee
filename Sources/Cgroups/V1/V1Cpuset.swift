/// cgroup v1 `cpuset`: joined only, never limited. A new group starts with empty `cpuset.cpus`
/// and `cpuset.mems`, and the kernel refuses to move a process into it (ENOSPC) until both
/// are set, so each level made copies its parent's, as runc's `cpusetEnsureParent` does.
/// Files: https://docs.kernel.org/admin-guide/cgroup-v1/cpusets.html
enum V1Cpuset {
    /// The files a group needs before it can take processes.
    static let inherited = ["cpuset.cpus", "cpuset.mems"]

    /// Creates `components` below `root` one level at a time, giving every level that has
    /// none its parent's CPUs and memory nodes (existing levels too: a parent made by someone
    /// else may still be empty).
    static func makeDirectories(root: String, components: [String], files: CgroupFiles) throws(CgroupError) {
        var parent = root
        for component in components {
            try files.makeDirectories(root: parent, components: [component])
            let dir = parent + "/" + component
            try inherit(dir: dir, parent: parent, files: files)
            parent = dir
        }
    }

    /// Copies each of `inherited` from `parent` into `dir` where `dir`'s is empty.
    static func inherit(dir: String, parent: String, files: CgroupFiles) throws(CgroupError) {
        for name in inherited {
            guard try files.read(dir + "/" + name).trimmingWhitespace().isEmpty else { continue }
            let value = try files.read(parent + "/" + name).trimmingWhitespace()
            if value.isEmpty {
                throw .parse(path: parent + "/" + name, detail: "empty: the parent cpuset has no \(name == "cpuset.cpus" ? "CPUs" : "memory nodes") to give its child groups")
            }
            try files.write(value, to: dir + "/" + name)
        }
    }
}
