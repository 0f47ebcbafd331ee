/// A process's groups from the text of `/proc/<pid>/cgroup`, by hierarchy: the line
/// `4:cpu,cpuacct:/a` gives "cpu" and "cpuacct" → "/a", `1:name=systemd:/b` gives
/// "name=systemd" → "/b", and cgroup2's `0::/c` gives "" → "/c" (cgroups(7)).
enum SelfCgroup {
    static func groups(_ text: String) -> [String: String] {
        var groups: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            for controller in fields[1].split(separator: ",", omittingEmptySubsequences: false) {
                groups[String(controller)] = String(fields[2])
            }
        }
        return groups
    }
}
