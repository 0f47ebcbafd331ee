import Foundation
import Testing
@testable import Cgroups

/// The v1 manager against a fake tree: exact files and values written, parsing of sample
/// kernel files. No root needed.
struct CgroupV1ManagerTests {
    @Test func createWritesKubeletValuesAndRuncDeviceList() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        try host.makeKernelGroup("swiftlet/pod1/app")

        try host.manager.create("swiftlet/pod1/app", resources: CgroupResources(
            cpuLimitMillis: 500, cpuRequestMillis: 250, memoryLimitBytes: 64 << 20, pidsLimit: 100))

        #expect(try host.value("cpu,cpuacct", "swiftlet/pod1/app", "cpu.shares") == "256")
        #expect(try host.value("cpu,cpuacct", "swiftlet/pod1/app", "cpu.cfs_period_us") == "100000")
        #expect(try host.value("cpu,cpuacct", "swiftlet/pod1/app", "cpu.cfs_quota_us") == "50000")
        #expect(try host.value("memory", "swiftlet/pod1/app", "memory.limit_in_bytes") == "67108864")
        #expect(try host.value("pids", "swiftlet/pod1/app", "pids.max") == "100")
        // Deny all first, then the allow list in runc's order.
        #expect(host.trace.values(forPathsEndingIn: "/devices.deny") == ["a"])
        #expect(host.trace.values(forPathsEndingIn: "/devices.allow") == [
            "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
            "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
        ])
        let denyIndex = try #require(host.trace.writes.firstIndex { $0.path.hasSuffix("devices.deny") })
        let allowIndex = try #require(host.trace.writes.firstIndex { $0.path.hasSuffix("devices.allow") })
        #expect(denyIndex < allowIndex)
        // The period is written before the quota it belongs to.
        let order = host.trace.writes.map { ($0.path as NSString).lastPathComponent }
        #expect(order.prefix(3) == ["cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"])
        // Nothing is written to the freezer or to cgroup.procs on create.
        #expect(!order.contains("freezer.state") && !order.contains("cgroup.procs"))
    }

    /// makeGroup makes the directories (cpuset's with the parent's cpus and mems, which a
    /// process needs to join) and writes no limit: update writes them later.
    @Test func makeGroupWritesNoLimits() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        try host.makeKernelGroup("swiftlet/pod1/app")
        try host.manager.makeGroup("swiftlet/pod1/app")
        let written = Set(host.trace.writes.map { ($0.path as NSString).lastPathComponent })
        #expect(written.isSubset(of: ["cpuset.cpus", "cpuset.mems"]), "\(written)")
        #expect(host.manager.exists("swiftlet/pod1/app"))
    }

    @Test func unsetLimitsAreWrittenAsUnlimited() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        try host.makeKernelGroup("pod")
        try host.tree.write("cpu,cpuacct/pod/cpu.shares", "512")
        try host.tree.write("cpu,cpuacct/pod/cpu.cfs_quota_us", "20000")
        try host.tree.write("pids/pod/pids.max", "10")

        try host.manager.update("pod", resources: CgroupResources(allowAllDevices: true))

        #expect(try host.value("cpu,cpuacct", "pod", "cpu.shares") == "1024")
        #expect(try host.value("cpu,cpuacct", "pod", "cpu.cfs_quota_us") == "-1")
        #expect(try host.value("memory", "pod", "memory.limit_in_bytes") == "-1")
        #expect(try host.value("pids", "pod", "pids.max") == "max")
        // devices.list already says "a *:* rwm": nothing to write (a pod group with children
        // would answer EINVAL to a wholesale rewrite).
        #expect(host.trace.values(forPathsEndingIn: "/devices.allow").isEmpty)
        #expect(host.trace.values(forPathsEndingIn: "/devices.deny").isEmpty)
        #expect(host.trace.values(forPathsEndingIn: "/cpu.cfs_period_us").isEmpty)
    }

    @Test func devicesAreLeftAloneWhenTheListAlreadyMatches() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        let kernelList = V1Devices.defaultRules.reversed().joined(separator: "\n") + "\n"
        try host.makeKernelGroup("pod", devicesList: kernelList)
        try host.manager.create("pod", resources: CgroupResources())
        #expect(host.trace.values(forPathsEndingIn: "/devices.deny").isEmpty)
        #expect(host.trace.values(forPathsEndingIn: "/devices.allow").isEmpty)

        // Switching that group to all devices writes "a" to devices.allow.
        try host.manager.update("pod", resources: CgroupResources(allowAllDevices: true))
        #expect(host.trace.values(forPathsEndingIn: "/devices.allow") == ["a"])
    }

    @Test func createMakesParentsInEveryHierarchyAndNamesTheMissingFile() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        // An empty fake tree has no control files, so applying fails at the first write,
        // after the directories were made.
        let error = #expect(throws: CgroupError.self) {
            try host.manager.create("swiftlet/pod9/app", resources: CgroupResources())
        }
        let shares = host.tree.url("cpu,cpuacct/swiftlet/pod9/app/cpu.shares")
        #expect(error == .write(path: shares, value: "1024", errno: ENOENT))
        #expect(error?.description.hasPrefix("write \(shares) (\"1024\"): ENOENT (No such file or directory)") == true)
        for mount in FakeV1Host.mounts {
            #expect(host.tree.exists(mount + "/swiftlet/pod9/app"), "missing in \(mount)")
        }
        #expect(host.manager.exists("swiftlet/pod9/app"))
        #expect(host.manager.exists("swiftlet/pod9") && !host.manager.exists("swiftlet/pod8"))
    }

    @Test func updateOfAMissingGroupFails() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        #expect(throws: CgroupError.groupNotFound(group: "nope", path: host.tree.url("cpu,cpuacct/nope"))) {
            try host.manager.update("nope", resources: CgroupResources())
        }
        #expect(host.trace.writes.isEmpty)
    }

    @Test(arguments: ["", "/abs/path", "a/../b", "a//b", "./a", ".."])
    func invalidGroupsAreRejected(group: String) throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        #expect(throws: CgroupError.self) { try host.manager.create(group, resources: CgroupResources()) }
        #expect(host.manager.procsFiles(for: group).isEmpty)
        #expect(host.manager.exists(group) == false)
        #expect(try FileManager.default.contentsOfDirectory(atPath: host.tree.url("memory")).isEmpty)
    }

    @Test func addProcessWritesThePidIntoEveryHierarchy() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        try host.makeKernelGroup("pod/app")
        try host.manager.addProcess(4242, to: "pod/app")
        let writes = host.trace.writes.filter { $0.path.hasSuffix("/cgroup.procs") }
        #expect(writes.map(\.path) == host.manager.procsFiles(for: "pod/app"))
        #expect(writes.allSatisfy { $0.value == "4242" })
        #expect(writes.count == 5)
    }

    @Test func processesAreRecursiveAndDeduplicated() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        try host.makeKernelGroup("pod")
        try host.makeKernelGroup("pod/a")
        try host.makeKernelGroup("pod/b")
        try host.tree.write("memory/pod/a/cgroup.procs", "30\n10\n")
        try host.tree.write("pids/pod/a/cgroup.procs", "10\n30\n")
        try host.tree.write("memory/pod/b/cgroup.procs", "20\n")
        try host.tree.write("freezer/pod/cgroup.procs", "5\n")
        #expect(try host.manager.processes(in: "pod") == [5, 10, 20, 30])
        #expect(try host.manager.processes(in: "pod/b") == [20])
        let missing = CgroupError.groupNotFound(group: "other", path: host.tree.url("cpu,cpuacct/other"))
        #expect(throws: missing) { try host.manager.processes(in: "other") }
        #expect(throws: missing) { try host.manager.stats("other") }
    }

    @Test func statsAreParsedFromKernelFiles() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        try host.makeKernelGroup("pod")
        try host.makeKernelGroup("pod/app")
        try host.tree.write("cpu,cpuacct/pod/cpuacct.usage", "123456789\n")
        try host.tree.write("memory/pod/memory.usage_in_bytes", "104857600\n")
        try host.tree.write("memory/pod/memory.stat", """
            cache 8388608
            rss 96468992
            inactive_file 1024
            total_cache 8388608
            total_inactive_file 4194304
            total_active_file 4194304

            """)
        // v1 counts oom_kill only in the killed process's own group: the pod sums its children.
        try host.tree.write("memory/pod/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
        try host.tree.write("memory/pod/app/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
        try host.tree.write("pids/pod/pids.current", "7\n")

        let stats = try host.manager.stats("pod")
        #expect(stats == CgroupStats(
            cpuUsageNanos: 123_456_789, memoryUsageBytes: 104_857_600,
            memoryWorkingSetBytes: 104_857_600 - 4_194_304, pidsCurrent: 7, oomKills: 3))
        #expect(try host.manager.oomKillCount("pod") == 3)
        #expect(try host.manager.oomKillCount("pod/app") == 2)
    }

    @Test func workingSetNeverGoesNegative() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        try host.makeKernelGroup("pod")
        try host.tree.write("memory/pod/memory.usage_in_bytes", "4096\n")
        try host.tree.write("memory/pod/memory.stat", "total_inactive_file 8192\n")
        #expect(try host.manager.stats("pod").memoryWorkingSetBytes == 0)
    }

    @Test func garbledStatsNameTheFile() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        try host.makeKernelGroup("pod")
        try host.tree.write("pids/pod/pids.current", "lots\n")
        #expect(throws: CgroupError.parse(path: host.tree.url("pids/pod/pids.current"), detail: "expected a number, found \"lots\"")) {
            try host.manager.stats("pod")
        }
    }

    @Test func killAllOfAnEmptyGroupDoesNotFreeze() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        try host.makeKernelGroup("pod")
        try host.manager.killAll("pod")
        // Freezing costs milliseconds of state polling; with no process there is no race to stop.
        #expect(host.trace.values(forPathsEndingIn: "/freezer/pod/freezer.state") == [])
        // A group that does not exist has nothing to kill.
        try host.manager.killAll("gone")
    }

    @Test func killAllSignalsListedProcessesAndReportsSurvivors() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        try host.makeKernelGroup("pod")
        let child = try ChildProcess.spawn(["/bin/sleep", "30"])
        defer { child.killAndReap() }
        // The fake file keeps listing the pid after it died, so killAll must give up and
        // say which process remained; the real kernel drops it from cgroup.procs.
        try host.tree.write("memory/pod/cgroup.procs", "\(child.pid)\n")
        #expect(throws: CgroupError.processesRemain(group: "pod", pids: [child.pid])) {
            try host.manager.killAll("pod")
        }
        #expect(child.wait(timeout: 5) == .signaled(SIGKILL))
        #expect(host.trace.values(forPathsEndingIn: "/freezer.state") == ["FROZEN", "THAWED"])
    }

    @Test func destroyRemovesTheSubtreeInEveryHierarchy() throws {
        let host = try FakeV1Host()
        defer { host.tree.remove() }
        // Plain directories: rmdir on a fake tree needs them empty (cgroupfs does not).
        for mount in FakeV1Host.mounts {
            try host.tree.mkdir(mount + "/swiftlet/pod1/app/deeper")
            try host.tree.mkdir(mount + "/swiftlet/pod1/sidecar")
            try host.tree.mkdir(mount + "/swiftlet/pod2")
        }
        try host.manager.destroy("swiftlet/pod1")
        for mount in FakeV1Host.mounts {
            #expect(!host.tree.exists(mount + "/swiftlet/pod1"))
            #expect(host.tree.exists(mount + "/swiftlet/pod2"))
        }
        // Missing is fine.
        try host.manager.destroy("swiftlet/pod1")
    }

    @Test func limitsWithoutTheirControllerFailBeforeAnythingIsCreated() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.mkdir("memory")
        let manager = CgroupV1Manager(hierarchies: ["memory": tree.url("memory"), "blkio": tree.url("blkio")])
        // blkio is joined, never limited.
        #expect(manager.limitMountPoints == [tree.url("memory")])
        #expect(manager.mountPoints == [tree.url("memory"), tree.url("blkio")])
        #expect(throws: CgroupError.controllerUnavailable(controller: "cpu", needed: "a CPU request or limit", path: "pod")) {
            try manager.create("pod", resources: CgroupResources(cpuRequestMillis: 100))
        }
        #expect(!tree.exists("memory/pod") && !tree.exists("blkio/pod"))
    }
}
