/// cgroup v1 `devices`: which device nodes the group may open or create.
/// Files: https://docs.kernel.org/admin-guide/cgroup-v1/devices.html
enum V1Devices {
    /// runc's default allow list (`DeviceRule.defaultAllowed`) as `devices.list` shows it.
    static let defaultRules: [String] = DeviceRule.defaultAllowed.map(\.description)

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
