/// cgroup v1 `devices`: which device nodes the group may open or create.
/// Files: https://docs.kernel.org/admin-guide/cgroup-v1/devices.html
enum V1Devices {
    /// runc's default allow list (libcontainer/specconv `AllowedDevices`), which containerd
    /// and Docker give unprivileged containers: mknod of anything, and read/write/mknod of
    /// null, zero, full, random, urandom, tty, console, ptmx, the pty slaves and tun.
    static let defaultRules: [String] = [
        "c *:* m",
        "b *:* m",
        "c 1:3 rwm",    // /dev/null
        "c 1:5 rwm",    // /dev/zero
        "c 1:7 rwm",    // /dev/full
        "c 1:8 rwm",    // /dev/random
        "c 1:9 rwm",    // /dev/urandom
        "c 5:0 rwm",    // /dev/tty
        "c 5:1 rwm",    // /dev/console
        "c 5:2 rwm",    // /dev/ptmx
        "c 136:* rwm",  // /dev/pts/*
        "c 10:200 rwm", // /dev/net/tun
    ]

    /// What `devices.list` shows for a group that may use every device.
    static let allowAllRule = "a *:* rwm"

    /// Makes the group's rules the default list, or everything for `allowAllDevices`.
    ///
    /// Rules are only rewritten when `devices.list` differs: the kernel refuses to replace
    /// the whole list (`a`) of a group that has child groups (EINVAL), so re-applying the
    /// same resources to a pod group must not touch it.
    static func apply(_ resources: CgroupResources, dir: String, files: CgroupFiles) throws(CgroupError) {
        let current = Set(try files.read(dir + "/devices.list")
            .split(separator: "\n").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty })
        if resources.allowAllDevices {
            if current == [allowAllRule] { return }
            try files.write("a", to: dir + "/devices.allow")
        } else {
            if current == Set(defaultRules) { return }
            // Deny everything first, then allow the list: the order runc uses, so there is no
            // moment where the group may use more than it should.
            try files.write("a", to: dir + "/devices.deny")
            for rule in defaultRules {
                try files.write(rule, to: dir + "/devices.allow")
            }
        }
    }
}
