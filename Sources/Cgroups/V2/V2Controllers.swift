/// cgroup v2 controller delegation: a controller is usable in a group only when its parent
/// lists it in `cgroup.subtree_control`, all the way down from the root.
/// https://docs.kernel.org/admin-guide/cgroup-v2.html#enabling-and-disabling
enum V2Controllers {
    /// The controllers swiftlet enables for its groups: the three it sets limits with, and
    /// `io` so per-pod I/O accounting works when the host has it.
    static let wanted = ["cpu", "memory", "pids", "io"]

    /// The controller names in a `cgroup.controllers` / `cgroup.subtree_control` file.
    static func names(_ text: String) -> Set<String> {
        Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    /// Enables in `dir`'s `cgroup.subtree_control` every wanted controller that `dir` has
    /// but has not yet enabled for its children, in one write (`+cpu +memory +pids`).
    /// Controllers the host lacks are skipped, not an error: a limit that needs one fails
    /// later with `controllerUnavailable`. Returns what `dir`'s children will have.
    ///
    /// EBUSY here means `dir` has processes of its own (the "no internal processes" rule).
    @discardableResult
    static func enable(in dir: String, files: CgroupFiles) throws(CgroupError) -> Set<String> {
        let available = names(try files.read(dir + "/cgroup.controllers"))
        let enabled = names(try files.read(dir + "/cgroup.subtree_control"))
        let missing = wanted.filter { available.contains($0) && !enabled.contains($0) }
        if !missing.isEmpty {
            try files.write(missing.map { "+" + $0 }.joined(separator: " "), to: dir + "/cgroup.subtree_control")
        }
        return enabled.union(missing)
    }
}
