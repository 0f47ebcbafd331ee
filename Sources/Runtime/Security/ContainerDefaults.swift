import Cgroups
import Glibc

/// The filesystem a container starts with, as containerd's default OCI spec lays it out
/// (containerd pkg/oci/spec.go `populateDefaultUnixSpec`, plus the devices runc creates).
public enum ContainerDefaults {
    /// Paths hidden from containers: files get /dev/null bound over them, directories an empty
    /// read-only tmpfs (containerd's `defaultUnixMaskedPaths`).
    public static let maskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
        "/sys/firmware", "/sys/devices/virtual/powercap",
    ]

    /// Paths bound read-only (containerd's `defaultUnixReadonlyPaths`).
    public static let readonlyPaths = [
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    ]

    /// Device nodes of a minimal /dev (runc's `AllowedDevices` that get a node).
    static let devices: [(path: String, major: UInt32, minor: UInt32)] = [
        ("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7), ("/dev/random", 1, 8),
        ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0),
    ]

    /// /proc, a tmpfs /dev with its device nodes and links, devpts, /dev/shm, mqueue and a
    /// read-only /sys (read-write only for privileged containers).
    public static func mounts(privileged: Bool) -> [MountSpec] {
        let nosuidNoexecNodev = UInt(MS_NOSUID | MS_NOEXEC | MS_NODEV)
        var mounts: [MountSpec] = [
            .filesystem("proc", at: "/proc", flags: nosuidNoexecNodev),
            .filesystem("tmpfs", at: "/dev", flags: UInt(MS_NOSUID | MS_STRICTATIME), data: "mode=755,size=65536k"),
        ]
        for device in devices {
            mounts.append(MountSpec(kind: .device, target: device.path, mode: UInt32(S_IFCHR) | 0o666,
                                    major: device.major, minor: device.minor))
        }
        mounts += [
            .filesystem("devpts", at: "/dev/pts", flags: UInt(MS_NOSUID | MS_NOEXEC),
                        data: "newinstance,ptmxmode=0666,mode=0620,gid=5"),
            MountSpec(kind: .symlink, source: "pts/ptmx", target: "/dev/ptmx"),
            MountSpec(kind: .symlink, source: "/proc/self/fd", target: "/dev/fd"),
            MountSpec(kind: .symlink, source: "/proc/self/fd/0", target: "/dev/stdin"),
            MountSpec(kind: .symlink, source: "/proc/self/fd/1", target: "/dev/stdout"),
            MountSpec(kind: .symlink, source: "/proc/self/fd/2", target: "/dev/stderr"),
            MountSpec(kind: .symlink, source: "/proc/kcore", target: "/dev/core"),
            .filesystem("tmpfs", source: "shm", at: "/dev/shm", flags: nosuidNoexecNodev, data: "mode=1777,size=65536k"),
            .filesystem("mqueue", at: "/dev/mqueue", flags: nosuidNoexecNodev),
        ]
        // sysfs has one superblock per network namespace, shared by every container of the pod:
        // MS_RDONLY there would make the pod's privileged containers read-only too. Read-only is
        // applied to this mount only, by a bind remount (as runc does).
        var sysfs = MountSpec.filesystem("sysfs", at: "/sys", flags: nosuidNoexecNodev)
        sysfs.readonly = !privileged
        mounts.append(sysfs)
        return mounts
    }

    /// `/sys/fs/cgroup` as runc mounts containerd's default `cgroup` entry (`nosuid,noexec,nodev`,
    /// read-only unless privileged): on v2 cgroup2 in the container's cgroup namespace; on v1 a
    /// tmpfs with the container's own directory of each hierarchy bound into it, and the tmpfs
    /// made read-only once those mount points exist. Comes after `/sys`, which it sits on.
    public static func cgroupMounts(_ view: CgroupContainerView, privileged: Bool) -> [MountSpec] {
        let flags = UInt(MS_NOSUID | MS_NOEXEC | MS_NODEV)
        let root = "/sys/fs/cgroup"
        switch view {
        case .v2:
            // cgroup2 has one superblock, the host's: read-only goes on this mount only.
            var cgroup2 = MountSpec.filesystem("cgroup2", source: "cgroup", at: root, flags: flags)
            cgroup2.readonly = !privileged
            return [cgroup2]
        case .v1(let hierarchies, let links):
            var mounts: [MountSpec] = [.filesystem("tmpfs", at: root, flags: flags, data: "mode=755")]
            for hierarchy in hierarchies {
                mounts.append(.bind(hierarchy.source, to: root + "/" + hierarchy.name, readonly: !privileged, flags: flags))
            }
            for link in links {
                mounts.append(MountSpec(kind: .symlink, source: link.target, target: root + "/" + link.name))
            }
            if !privileged {
                mounts.append(MountSpec(kind: .remount, target: root, flags: flags, readonly: true))
            }
            return mounts
        }
    }

    /// Resource limits containers get: containerd passes its own limits through; we set the
    /// open-files limit explicitly so containers do not inherit whatever the agent runs with.
    public static func rlimits() -> [ResourceLimit] {
        var current = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &current)
        let hard = UInt64(current.rlim_max)
        let wanted: UInt64 = 1_048_576
        let value = min(wanted, hard)
        return [ResourceLimit(resource: Int32(RLIMIT_NOFILE.rawValue), soft: value, hard: value)]
    }
}
