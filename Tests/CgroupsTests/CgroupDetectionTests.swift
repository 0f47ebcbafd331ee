import Testing
@testable import Cgroups

/// Detection from sample mounts files of a hybrid, a pure-v2 and a v1-only host.
struct CgroupDetectionTests {
    /// This build machine's layout: separate cpu and cpuacct mounts, unified tree, systemd.
    static let hybridMounts = """
        sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
        tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
        cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
        cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
        cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0
        cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
        cgroup /sys/fs/cgroup/devices cgroup rw,relatime,devices 0 0
        cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0
        cgroup /sys/fs/cgroup/blkio cgroup rw,relatime,blkio 0 0
        cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
        cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
        cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
        """

    /// Debian 10 / Ubuntu 20.04 systemd hybrid: co-mounted cpu,cpuacct and net_cls,net_prio.
    static let systemdHybridMounts = """
        tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0
        cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0
        cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0
        cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0
        cgroup /sys/fs/cgroup/net_cls,net_prio cgroup rw,nosuid,nodev,noexec,relatime,net_cls,net_prio 0 0
        cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0
        cgroup /sys/fs/cgroup/pids cgroup rw,nosuid,nodev,noexec,relatime,pids 0 0
        cgroup /sys/fs/cgroup/devices cgroup rw,nosuid,nodev,noexec,relatime,devices 0 0
        cgroup /sys/fs/cgroup/freezer cgroup rw,nosuid,nodev,noexec,relatime,freezer 0 0
        """

    static let pureV2Mounts = """
        proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
        cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0
        """

    /// A v1-only host (CentOS 7 style, no cgroup2 at all), pids not mounted.
    static let v1OnlyMounts = """
        cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd 0 0
        cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpuacct,cpu 0 0
        cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0
        cgroup /sys/fs/cgroup/devices cgroup rw,nosuid,nodev,noexec,relatime,devices 0 0
        cgroup /sys/fs/cgroup/freezer cgroup rw,nosuid,nodev,noexec,relatime,freezer 0 0
        """

    @Test func hybridHostIsV1WithUnifiedTree() throws {
        let table = CgroupMountTable(parsing: Self.hybridMounts, root: "/sys/fs/cgroup")
        #expect(table.mode == .v1)
        #expect(table.v1["cpu"] == "/sys/fs/cgroup/cpu")
        #expect(table.v1["cpuacct"] == "/sys/fs/cgroup/cpuacct")
        #expect(table.v1["pids"] == "/sys/fs/cgroup/pids")
        #expect(table.v1.count == 8)
        #expect(table.namedV1 == ["name=systemd": "/sys/fs/cgroup/systemd"])
        #expect(table.unified == "/sys/fs/cgroup/unified")
    }

    @Test func coMountedControllersShareOneDirectory() throws {
        let table = CgroupMountTable(parsing: Self.systemdHybridMounts, root: "/sys/fs/cgroup")
        #expect(table.v1["cpu"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(table.v1["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(table.v1["net_prio"] == "/sys/fs/cgroup/net_cls,net_prio")
        let manager = CgroupV1Manager(hierarchies: table.v1.merging(table.namedV1) { a, _ in a }, unified: table.unified)
        #expect(manager.limitMountPoints == [
            "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
            "/sys/fs/cgroup/devices", "/sys/fs/cgroup/freezer",
        ])
        // Every hierarchy is joined, as runc does: net_cls,net_prio, name=systemd, the cgroup2 tree.
        #expect(manager.mountPoints == manager.limitMountPoints + [
            "/sys/fs/cgroup/net_cls,net_prio", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified",
        ])
        // The limit hierarchies' files are listed even before the group exists (a missing one
        // is an error worth seeing); the joined ones only where the group has a directory.
        #expect(manager.procsFiles(for: "swiftlet/pod1/app") == [
            "/sys/fs/cgroup/cpu,cpuacct/swiftlet/pod1/app/cgroup.procs",
            "/sys/fs/cgroup/memory/swiftlet/pod1/app/cgroup.procs",
            "/sys/fs/cgroup/pids/swiftlet/pod1/app/cgroup.procs",
            "/sys/fs/cgroup/devices/swiftlet/pod1/app/cgroup.procs",
            "/sys/fs/cgroup/freezer/swiftlet/pod1/app/cgroup.procs",
        ])
        // The container sees each v1 hierarchy under the host's name, co-mounted controllers
        // also by their own names; not the cgroup2 tree (runc binds only v1 mounts).
        let view = try manager.containerView(for: "swiftlet/pod1/app")
        #expect(view == .v1(hierarchies: [
            .init(name: "cpu,cpuacct", source: "/sys/fs/cgroup/cpu,cpuacct/swiftlet/pod1/app"),
            .init(name: "memory", source: "/sys/fs/cgroup/memory/swiftlet/pod1/app"),
            .init(name: "pids", source: "/sys/fs/cgroup/pids/swiftlet/pod1/app"),
            .init(name: "devices", source: "/sys/fs/cgroup/devices/swiftlet/pod1/app"),
            .init(name: "freezer", source: "/sys/fs/cgroup/freezer/swiftlet/pod1/app"),
            .init(name: "net_cls,net_prio", source: "/sys/fs/cgroup/net_cls,net_prio/swiftlet/pod1/app"),
            .init(name: "systemd", source: "/sys/fs/cgroup/systemd/swiftlet/pod1/app"),
        ], links: [
            .init(name: "cpu", target: "cpu,cpuacct"), .init(name: "cpuacct", target: "cpu,cpuacct"),
            .init(name: "net_cls", target: "net_cls,net_prio"), .init(name: "net_prio", target: "net_cls,net_prio"),
        ]))
        #expect(throws: CgroupError.self) { try manager.containerView(for: "../escape") }
    }

    @Test func pureV2HostGetsTheV2Manager() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.write("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
        try tree.write("mounts", Self.pureV2Mounts.replacingOccurrences(of: "/sys/fs/cgroup", with: tree.path))

        let manager = try Cgroups.detect(root: tree.path, mountsFile: tree.url("mounts"))
        #expect(manager.mode == .v2)
        let v2 = try #require(manager as? CgroupV2Manager)
        #expect(v2.root == tree.path)

        let info = try Cgroups.hostInfo(root: tree.path, mountsFile: tree.url("mounts"))
        #expect(info.mode == .v2)
        #expect(info.controllers == ["cpu", "cpuset", "hugetlb", "io", "memory", "misc", "pids", "rdma"])
        #expect(info.controllerPaths["memory"] == tree.path)
        #expect(info.missingControllers.isEmpty)
        #expect(info.isHybrid == false)
    }

    @Test func v2HostWithoutDelegatedMemoryReportsItMissing() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.write("cgroup.controllers", "cpu pids\n")
        try tree.write("mounts", Self.pureV2Mounts.replacingOccurrences(of: "/sys/fs/cgroup", with: tree.path))
        let info = try Cgroups.hostInfo(root: tree.path, mountsFile: tree.url("mounts"))
        #expect(info.missingControllers == ["memory"])
    }

    @Test func hybridHostInfo() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.write("mounts", Self.hybridMounts)
        let manager = try Cgroups.detect(root: "/sys/fs/cgroup", mountsFile: tree.url("mounts"))
        let v1 = try #require(manager as? CgroupV1Manager)
        #expect(v1.mode == .v1)
        // Every hierarchy is kept, for joining; limits use six of them.
        #expect(v1.hierarchies.keys.sorted() == ["blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "name=systemd", "pids"])
        #expect(v1.unified == "/sys/fs/cgroup/unified")
        #expect(v1.limitMountPoints.count == 6)
        #expect(v1.mountPoints.suffix(4) == ["/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/blkio", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"])

        let info = try Cgroups.hostInfo(root: "/sys/fs/cgroup", mountsFile: tree.url("mounts"))
        #expect(info.mode == .v1)
        #expect(info.isHybrid)
        #expect(info.unifiedPath == "/sys/fs/cgroup/unified")
        #expect(info.controllers == ["blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"])
        #expect(info.controllerPaths["freezer"] == "/sys/fs/cgroup/freezer")
        #expect(info.missingControllers.isEmpty)
    }

    @Test func v1OnlyHostIsNotHybridAndLacksPids() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.write("mounts", Self.v1OnlyMounts)
        let info = try Cgroups.hostInfo(root: "/sys/fs/cgroup", mountsFile: tree.url("mounts"))
        #expect(info.mode == .v1)
        #expect(info.isHybrid == false)
        #expect(info.unifiedPath == nil)
        #expect(info.missingControllers == ["pids"])

        // A pids limit then fails up front, naming the controller.
        let manager = try Cgroups.detect(root: "/sys/fs/cgroup", mountsFile: tree.url("mounts"))
        #expect(throws: CgroupError.controllerUnavailable(controller: "pids", needed: "a pids limit", path: "x")) {
            try manager.create("x", resources: CgroupResources(pidsLimit: 10))
        }
    }

    @Test func namedHierarchyAloneDoesNotMakeAV1Host() {
        // systemd's "unified" hybrid: only name=systemd in v1, controllers all in cgroup2.
        let mounts = """
            cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0
            cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0
            """
        let table = CgroupMountTable(parsing: mounts, root: "/sys/fs/cgroup")
        #expect(table.mode == .v2)
        #expect(table.unified == "/sys/fs/cgroup")
    }

    @Test func mountsOutsideTheRootAreIgnoredAndEscapesDecoded() {
        let mounts = """
            cgroup2 /run/other/cgroup cgroup2 rw 0 0
            cgroup /sys/fs/cgroup-old/memory cgroup rw,memory 0 0
            cgroup /tmp/my\\040cgroups/memory cgroup rw,memory 0 0
            """
        #expect(CgroupMountTable(parsing: mounts, root: "/sys/fs/cgroup").mode == nil)
        let spaced = CgroupMountTable(parsing: mounts, root: "/tmp/my cgroups/")
        #expect(spaced.v1["memory"] == "/tmp/my cgroups/memory")
    }

    @Test func noCgroupMountIsAClearError() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.write("mounts", "proc /proc proc rw 0 0\n")
        let error = #expect(throws: CgroupError.self) {
            try Cgroups.detect(root: "/sys/fs/cgroup", mountsFile: tree.url("mounts"))
        }
        #expect(error?.description == "no cgroup filesystem is mounted under /sys/fs/cgroup (according to \(tree.url("mounts"))); mount cgroup2 at /sys/fs/cgroup or the v1 controllers below it")
    }

    @Test func unreadableMountsFileNamesIt() {
        let error = #expect(throws: CgroupError.self) {
            try Cgroups.detect(mountsFile: "/nonexistent/mounts")
        }
        #expect(error?.description.hasPrefix("read /nonexistent/mounts: ENOENT") == true)
    }
}
