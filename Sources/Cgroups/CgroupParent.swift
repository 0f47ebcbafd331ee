/// Where pods' groups go when `--cgroup-parent` is not given.
///
/// Run as a systemd service (systemd sets `$INVOCATION_ID` for the processes of a unit), the
/// agent's own group is `<slice>/<unit>.service`, and pods go in `<slice>/kubepods`: beside the
/// service's group, not inside it. Inside would break `systemctl restart`: a pod group
/// below the service's group makes it an inner group with controllers enabled, and systemd
/// starts the new main process in the service's own group, which the kernel then refuses
/// (cgroup v2's no-internal-processes rule): the unit fails with status 219/CGROUP (systemd
/// issue 24064; measured in the VM tests, docs/install.md). `KillMode=process` keeps the
/// containers' monitors in the service's group, as k3s keeps containerd's shims.
///
/// Otherwise (a shell, a container, no systemd) it is `swiftlet` at the root of each hierarchy,
/// as kubelet's cgroupfs driver uses `/kubepods`.
public enum CgroupParent {
    /// The default for a process outside systemd services.
    public static let standalone = "swiftlet"
    /// The name of the pods' parent beside a service's group (kubelet's cgroupfs name).
    public static let besideService = "kubepods"

    /// The default parent, from `/proc/self/cgroup`'s text and the environment.
    public static func defaultParent(selfCgroup: String, environment: [String: String]) -> String {
        guard let invocation = environment["INVOCATION_ID"], !invocation.isEmpty,
              let own = systemdGroup(selfCgroup) else { return standalone }
        var components = own.split(separator: "/").map(String.init)
        guard let unit = components.popLast(), unit.hasSuffix(".service"),
              components.last.map({ $0.hasSuffix(".slice") }) ?? true else { return standalone }
        return (components + [besideService]).joined(separator: "/")
    }

    /// The process's group in systemd's hierarchy: the cgroup v2 line (`0::/path`), else the
    /// v1 `name=systemd` one.
    static func systemdGroup(_ text: String) -> String? {
        let groups = SelfCgroup.groups(text)
        return groups[""] ?? groups["name=systemd"]
    }
}
