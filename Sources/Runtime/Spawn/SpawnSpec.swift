import CShims

/// One entry of the container's mount list, applied in order inside the new root.
public struct MountSpec: Sendable, Equatable {
    /// `remount` changes the flags of what an earlier entry mounted at `target` (read-only when
    /// `readonly`): a tmpfs that later entries create their mount points in.
    public enum Kind: Int32, Sendable { case filesystem = 0, bind = 1, device = 2, symlink = 3, remount = 4 }
    public var kind: Kind
    public var source: String
    /// Absolute path inside the container.
    public var target: String
    public var fstype: String?
    public var flags: UInt
    public var data: String?
    public var readonly: Bool
    public var targetIsFile: Bool
    public var mode: UInt32
    public var major: UInt32
    public var minor: UInt32

    public init(kind: Kind, source: String = "", target: String, fstype: String? = nil, flags: UInt = 0,
                data: String? = nil, readonly: Bool = false, targetIsFile: Bool = false,
                mode: UInt32 = 0, major: UInt32 = 0, minor: UInt32 = 0) {
        self.kind = kind
        self.source = source
        self.target = target
        self.fstype = fstype
        self.flags = flags
        self.data = data
        self.readonly = readonly
        self.targetIsFile = targetIsFile
        self.mode = mode
        self.major = major
        self.minor = minor
    }

    public static func bind(_ source: String, to target: String, readonly: Bool = false, file: Bool = false,
                            flags: UInt = 0) -> MountSpec {
        MountSpec(kind: .bind, source: source, target: target, flags: flags, readonly: readonly, targetIsFile: file)
    }

    public static func filesystem(_ fstype: String, source: String? = nil, at target: String, flags: UInt = 0,
                                  data: String? = nil) -> MountSpec {
        MountSpec(kind: .filesystem, source: source ?? fstype, target: target, fstype: fstype, flags: flags, data: data)
    }
}

public struct ResourceLimit: Sendable, Equatable {
    public var resource: Int32
    public var soft: UInt64
    public var hard: UInt64
    public init(resource: Int32, soft: UInt64, hard: UInt64) {
        self.resource = resource
        self.soft = soft
        self.hard = hard
    }
}

/// The process a container runs and the privileges it runs with.
public struct ProcessSpec: Sendable, Equatable {
    public var argv: [String]
    public var env: [String]
    public var cwd: String
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var groups: [UInt32] = []
    public var rlimits: [ResourceLimit] = []
    public var capabilities: CapabilitySet = .containerdDefault
    public var noNewPrivileges = false
    /// Compiled BPF (`struct sock_filter[]`), or nil for no filter (Unconfined).
    public var seccompFilter: [UInt8]?
    /// kubelet's QoS score; a preference: where the kernel refuses it (no CAP_SYS_RESOURCE), the
    /// process gets the lowest value allowed (`SpawnedProcess.oomScoreAdjFallback`).
    public var oomScoreAdj: Int32?

    public init(argv: [String], env: [String], cwd: String = "/") {
        self.argv = argv
        self.env = env
        self.cwd = cwd
    }

    /// The PATH the command is looked up in: the container's own.
    var pathEnv: String? {
        env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) }
    }
}

/// Everything `sl_spawn` needs to start one container.
public struct SpawnSpec: Sendable {
    public var cloneFlags: Int32 = SL_CLONE_NEWNS | SL_CLONE_NEWPID
    /// Namespaces to join, as (fd, CLONE_NEW* type): the pod sandbox's.
    public var joinNamespaces: [(fd: Int32, type: Int32)] = []
    public var hostname: String?
    /// The pod's shared PID namespace (shareProcessNamespace); `cloneFlags` then has no NEWPID.
    public var pidNamespace: Int32?
    public var cgroupProcs: [String] = []
    /// A cgroup namespace rooted at the container's group, entered right after joining it
    /// (cgroup v2; see `CgroupContainerView`).
    public var cgroupNamespace = false
    /// Empty directory on the host that becomes the container's `/`.
    public var rootfs: String
    /// overlayfs options; nil binds `rootfs` as it is.
    public var overlayOptions: String?
    public var mounts: [MountSpec] = []
    public var maskedPaths: [String] = []
    public var readonlyPaths: [String] = []
    public var readonlyRootfs = false
    public var process: ProcessSpec
    public var stdin: Int32 = -1
    public var stdout: Int32 = -1
    public var stderr: Int32 = -1

    public init(rootfs: String, process: ProcessSpec) {
        self.rootfs = rootfs
        self.process = process
    }
}
