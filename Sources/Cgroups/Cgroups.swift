/// Entry points: find out how the host mounts cgroups and get the matching manager.
public enum Cgroups {
    /// The controllers the v2 manager sets limits with.
    static let requiredV2Controllers = ["cpu", "memory", "pids"]

    /// Returns a `CgroupV1Manager` when the controllers swiftlet uses are mounted as cgroup v1
    /// below `root` (legacy or hybrid host), else a `CgroupV2Manager` on the cgroup2 mount.
    ///
    /// - Parameters:
    ///   - root: where the cgroup filesystems are mounted.
    ///   - mountsFile: a file in `/proc/self/mounts` format listing them.
    public static func detect(
        root: String = "/sys/fs/cgroup",
        mountsFile: String = "/proc/self/mounts"
    ) throws -> any CgroupManager {
        let table = try mountTable(root: root, mountsFile: mountsFile)
        switch table.mode {
        case .v1:
            // Named hierarchies (name=systemd) and a hybrid host's cgroup2 tree are joined too.
            return CgroupV1Manager(hierarchies: table.v1.merging(table.namedV1) { first, _ in first }, unified: table.unified)
        case .v2:
            // `mode` is .v2 only when a cgroup2 mount was found.
            guard let unified = table.unified else { throw CgroupError.noCgroupMount(root: root, mountsFile: mountsFile) }
            return CgroupV2Manager(root: unified)
        case nil:
            throw CgroupError.noCgroupMount(root: root, mountsFile: mountsFile)
        }
    }

    /// Describes the host's cgroup layout: mode, available controllers and their paths, and
    /// which controllers swiftlet would miss.
    public static func hostInfo(
        root: String = "/sys/fs/cgroup",
        mountsFile: String = "/proc/self/mounts"
    ) throws -> CgroupHostInfo {
        let table = try mountTable(root: root, mountsFile: mountsFile)
        switch table.mode {
        case .v1:
            return CgroupHostInfo(
                mode: .v1,
                root: root,
                controllers: table.v1.keys.sorted(),
                controllerPaths: table.v1,
                unifiedPath: table.unified,
                missingControllers: CgroupV1Manager.controllers.filter { table.v1[$0] == nil }
            )
        case .v2:
            guard let unified = table.unified else { throw CgroupError.noCgroupMount(root: root, mountsFile: mountsFile) }
            let available = V2Controllers.names(try CgroupFiles().read(unified + "/cgroup.controllers"))
            return CgroupHostInfo(
                mode: .v2,
                root: root,
                controllers: available.sorted(),
                controllerPaths: Dictionary(uniqueKeysWithValues: available.map { ($0, unified) }),
                unifiedPath: unified,
                missingControllers: requiredV2Controllers.filter { !available.contains($0) }
            )
        case nil:
            throw CgroupError.noCgroupMount(root: root, mountsFile: mountsFile)
        }
    }

    private static func mountTable(root: String, mountsFile: String) throws(CgroupError) -> CgroupMountTable {
        CgroupMountTable(parsing: try CgroupFiles().read(mountsFile), root: root)
    }
}
