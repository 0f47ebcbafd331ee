/// What the host offers for cgroups, for `swiftlet check-config` and the node's startup log.
public struct CgroupHostInfo: Sendable, Equatable {
    /// The interface swiftlet will use.
    public var mode: CgroupMode
    /// The cgroup root that was examined (`/sys/fs/cgroup`).
    public var root: String
    /// Available controllers, sorted: the v1 controllers mounted below the root, or the
    /// entries of the v2 root's `cgroup.controllers`.
    public var controllers: [String]
    /// Controller → directory holding its hierarchy (on v2 every controller maps to the root).
    public var controllerPaths: [String: String]
    /// The cgroup2 mount, if any (on a hybrid host, usually `<root>/unified`).
    public var unifiedPath: String?
    /// Controllers swiftlet uses that the host lacks; limits needing them cannot be set,
    /// and without v1 `devices` containers' device access is not restricted.
    public var missingControllers: [String]

    /// v1 controllers alongside a cgroup2 tree (systemd's "hybrid" layout).
    public var isHybrid: Bool { mode == .v1 && unifiedPath != nil }

    /// Creates host info.
    public init(
        mode: CgroupMode,
        root: String,
        controllers: [String],
        controllerPaths: [String: String],
        unifiedPath: String?,
        missingControllers: [String]
    ) {
        self.mode = mode
        self.root = root
        self.controllers = controllers
        self.controllerPaths = controllerPaths
        self.unifiedPath = unifiedPath
        self.missingControllers = missingControllers
    }
}
