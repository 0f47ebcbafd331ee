/// What a container sees at `/sys/fs/cgroup`: its own groups, laid out as runc lays out
/// containerd's default `cgroup` mount (read-only unless privileged). JVMs, .NET and Go runtimes
/// read their CPU and memory limits there.
///
/// The runtime turns this into mounts; the manager only says where the container's groups are.
public enum CgroupContainerView: Sendable, Equatable {
    /// cgroup v1 (runc's `mountCgroupV1` for a container without a cgroup namespace, which is
    /// containerd's default on v1): a tmpfs at `/sys/fs/cgroup` holding, per hierarchy, a bind
    /// mount of the container's own group directory, named after the host's mount point
    /// (`memory`, `cpu,cpuacct`, `systemd`), and for co-mounted controllers one symlink each
    /// (`cpu -> cpu,cpuacct`). `/proc/self/cgroup` keeps showing the host's paths.
    case v1(hierarchies: [Hierarchy], links: [Link])
    /// cgroup v2 (containerd's default there, runc and crun's way): the container enters a cgroup
    /// namespace right after joining its group, so that group is the namespace's root, and
    /// cgroup2 mounted at `/sys/fs/cgroup` shows it as `/`.
    case v2

    /// One v1 hierarchy as the container sees it.
    public struct Hierarchy: Sendable, Equatable {
        /// The directory under `/sys/fs/cgroup` (the host mount point's last component).
        public var name: String
        /// The container's group directory on the host, bound there.
        public var source: String

        public init(name: String, source: String) {
            self.name = name
            self.source = source
        }
    }

    /// A symlink under `/sys/fs/cgroup`: `name -> target`.
    public struct Link: Sendable, Equatable {
        public var name: String
        public var target: String

        public init(name: String, target: String) {
            self.name = name
            self.target = target
        }
    }
}
