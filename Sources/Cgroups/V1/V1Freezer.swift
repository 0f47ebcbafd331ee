/// cgroup v1 `freezer`: stops every task of a group (and its children) so they can be
/// killed without racing forks. Files: https://docs.kernel.org/admin-guide/cgroup-v1/freezer-subsystem.html
enum V1Freezer {
    /// Writes FROZEN and waits (until `deadline`) for `freezer.state` to leave FREEZING.
    /// Returns whether the group reached FROZEN; a task in uninterruptible sleep can keep
    /// it FREEZING, and the caller then kills what it can anyway.
    @discardableResult
    static func freeze(dir: String, files: CgroupFiles, deadline: MonotonicDeadline) throws(CgroupError) -> Bool {
        try files.write("FROZEN", to: dir + "/freezer.state")
        while true {
            if try files.read(dir + "/freezer.state").trimmingWhitespace() == "FROZEN" { return true }
            if deadline.hasPassed { return false }
            MonotonicDeadline.sleep(milliseconds: 1)
        }
    }

    /// Writes THAWED; SIGKILLs sent while frozen are delivered now.
    static func thaw(dir: String, files: CgroupFiles) throws(CgroupError) {
        try files.write("THAWED", to: dir + "/freezer.state")
    }
}
