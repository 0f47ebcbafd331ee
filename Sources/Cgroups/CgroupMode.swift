/// Which cgroup interface the host offers swiftlet.
public enum CgroupMode: String, Sendable {
    /// cgroup v1: legacy (v1 only) or hybrid (v1 controllers plus a cgroup2 tree without
    /// resource controllers, usually at `/sys/fs/cgroup/unified`).
    case v1
    /// cgroup v2, the unified hierarchy (systemd hosts, most current distributions).
    case v2
}
