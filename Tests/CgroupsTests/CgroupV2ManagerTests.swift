import Foundation
import Testing
@testable import Cgroups

/// The v2 manager against a fake unified tree. No root needed.
struct CgroupV2ManagerTests {
    static let hostControllers = "cpuset cpu io memory hugetlb pids rdma misc\n"

    /// A fake root plus `groups`, each with the files the kernel would give it when its
    /// parent enabled cpu, memory, pids and io.
    struct FakeV2Host {
        let tree: TempTree
        let trace = WriteTrace()
        let manager: CgroupV2Manager

        init(rootControllers: String = CgroupV2ManagerTests.hostControllers, enabled: String = "", groups: [String]) throws {
            tree = try TempTree()
            try tree.write("cgroup.controllers", rootControllers)
            try tree.write("cgroup.subtree_control", enabled)
            for group in groups {
                try tree.group(group, files: [
                    "cgroup.controllers": "cpu io memory pids\n", "cgroup.subtree_control": enabled,
                    "cgroup.procs": "", "cgroup.events": "populated 0\nfrozen 0\n",
                    "cpu.weight": "100\n", "cpu.max": "max 100000\n", "cpu.stat": "usage_usec 0\n",
                    "memory.max": "max\n", "memory.current": "0\n", "memory.stat": "inactive_file 0\n",
                    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
                    "pids.max": "max\n", "pids.current": "0\n",
                ])
            }
            manager = CgroupV2Manager(root: tree.path + "/", files: CgroupFiles(trace: trace))
        }

        func value(_ relative: String) throws -> String {
            try tree.read(relative).trimmingWhitespace()
        }
    }

    @Test func createEnablesControllersDownTheTreeAndWritesLimits() throws {
        let host = try FakeV2Host(groups: ["swiftlet", "swiftlet/pod1", "swiftlet/pod1/app"])
        defer { host.tree.remove() }

        try host.manager.create("swiftlet/pod1/app", resources: CgroupResources(
            cpuLimitMillis: 250, cpuRequestMillis: 250, memoryLimitBytes: 128 << 20, pidsLimit: 64))

        // Root and every ancestor, each before its child; not the leaf itself.
        let subtree = host.trace.writes.filter { $0.path.hasSuffix("cgroup.subtree_control") }
        #expect(subtree.map(\.path) == [
            host.tree.path + "/cgroup.subtree_control",
            host.tree.path + "/swiftlet/cgroup.subtree_control",
            host.tree.path + "/swiftlet/pod1/cgroup.subtree_control",
        ])
        #expect(subtree.allSatisfy { $0.value == "+cpu +memory +pids +io" })
        #expect(try host.value("swiftlet/pod1/app/cpu.weight") == "10")
        #expect(try host.value("swiftlet/pod1/app/cpu.max") == "25000 100000")
        #expect(try host.value("swiftlet/pod1/app/memory.max") == "134217728")
        #expect(try host.value("swiftlet/pod1/app/pids.max") == "64")
        #expect(host.manager.exists("swiftlet/pod1/app"))
        #expect(host.manager.procsFiles(for: "swiftlet/pod1/app") == [host.tree.path + "/swiftlet/pod1/app/cgroup.procs"])
    }

    /// makeGroup enables the controllers down the tree as create does, and writes no limit
    /// (update writes them later).
    @Test func makeGroupEnablesControllersAndWritesNoLimits() throws {
        let host = try FakeV2Host(groups: ["swiftlet", "swiftlet/pod1", "swiftlet/pod1/app"])
        defer { host.tree.remove() }
        try host.manager.makeGroup("swiftlet/pod1/app")
        #expect(host.trace.writes.map { ($0.path as NSString).lastPathComponent } == Array(repeating: "cgroup.subtree_control", count: 3))
        #expect(try host.value("swiftlet/pod1/app/memory.max") == "max")
        #expect(host.manager.exists("swiftlet/pod1/app"))
    }

    @Test func alreadyEnabledControllersAreNotWrittenAgainAndMissingOnesSkipped() throws {
        // Root without io and with cpu, memory already enabled: only +pids is needed there.
        let host = try FakeV2Host(rootControllers: "cpu memory pids\n", enabled: "cpu memory\n", groups: ["pod"])
        defer { host.tree.remove() }
        try host.manager.create("pod", resources: CgroupResources())
        #expect(host.trace.values(forPathsEndingIn: "cgroup.subtree_control") == ["+pids"])
        #expect(try host.value("pod/cpu.weight") == "100")
        #expect(try host.value("pod/cpu.max") == "max 100000")
        #expect(try host.value("pod/memory.max") == "max")
        #expect(try host.value("pod/pids.max") == "max")
    }

    @Test func updateRemovesLimits() throws {
        let host = try FakeV2Host(groups: ["pod"])
        defer { host.tree.remove() }
        try host.tree.write("pod/cpu.max", "50000 100000\n")
        try host.tree.write("pod/memory.max", "1048576\n")
        try host.manager.update("pod", resources: CgroupResources(cpuRequestMillis: 1000))
        #expect(try host.value("pod/cpu.weight") == "39")
        #expect(try host.value("pod/cpu.max") == "max 100000")
        #expect(try host.value("pod/memory.max") == "max")
        // update never touches subtree_control.
        #expect(host.trace.values(forPathsEndingIn: "cgroup.subtree_control").isEmpty)
    }

    @Test func memoryLimitBelowUsageIsRefusedLikeKubelet() throws {
        let host = try FakeV2Host(groups: ["pod"])
        defer { host.tree.remove() }
        try host.tree.write("pod/memory.current", "52428800\n")
        let error = #expect(throws: CgroupError.self) {
            try host.manager.update("pod", resources: CgroupResources(memoryLimitBytes: 10 << 20))
        }
        let path = host.tree.path + "/pod/memory.max"
        #expect(error == .limitBelowUsage(path: path, limit: 10 << 20, usage: 52_428_800))
        #expect(error?.description.contains("EBUSY (the memory limit 10485760 bytes is below what the group already uses (52428800 bytes)") == true)
        #expect(try host.value("pod/memory.max") == "max")
    }

    @Test func aLimitWithoutItsControllerFailsBeforeTheLeafExists() throws {
        let host = try FakeV2Host(rootControllers: "cpu pids\n", groups: [])
        defer { host.tree.remove() }
        let error = #expect(throws: CgroupError.self) {
            try host.manager.create("pod", resources: CgroupResources(memoryLimitBytes: 1 << 30))
        }
        #expect(error == .controllerUnavailable(controller: "memory", needed: "a memory limit", path: host.tree.path + "/pod"))
        #expect(!host.tree.exists("pod"))
    }

    @Test func groupWithoutControllersStillWorksWhenNoLimitIsAsked() throws {
        // Like the hybrid host's /sys/fs/cgroup/unified: no resource controllers at all.
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.write("cgroup.controllers", "hugetlb\n")
        try tree.write("cgroup.subtree_control", "")
        let trace = WriteTrace()
        let manager = CgroupV2Manager(root: tree.path, files: CgroupFiles(trace: trace))
        try manager.create("pod", resources: CgroupResources())
        #expect(tree.exists("pod"))
        #expect(trace.writes.isEmpty)
    }

    @Test func statsAreParsedFromKernelFiles() throws {
        let host = try FakeV2Host(groups: ["pod"])
        defer { host.tree.remove() }
        try host.tree.write("pod/cpu.stat", "usage_usec 5000123\nuser_usec 4000000\nsystem_usec 1000123\nnr_periods 0\n")
        try host.tree.write("pod/memory.current", "20971520\n")
        try host.tree.write("pod/memory.stat", "anon 10485760\nfile 10485760\nactive_file 2097152\ninactive_file 8388608\n")
        try host.tree.write("pod/memory.events", "low 0\nhigh 0\nmax 12\noom 4\noom_kill 4\noom_group_kill 0\n")
        try host.tree.write("pod/pids.current", "3\n")
        #expect(try host.manager.stats("pod") == CgroupStats(
            cpuUsageNanos: 5_000_123_000, memoryUsageBytes: 20_971_520,
            memoryWorkingSetBytes: 20_971_520 - 8_388_608, pidsCurrent: 3, oomKills: 4))
        #expect(try host.manager.oomKillCount("pod") == 4)
        #expect(throws: CgroupError.groupNotFound(group: "nope", path: host.tree.path + "/nope")) {
            try host.manager.stats("nope")
        }
    }

    @Test func statsOfAGroupWithoutMemoryAndPidsControllersAreZero() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.group("pod", files: ["cpu.stat": "usage_usec 7\n", "cgroup.procs": ""])
        let manager = CgroupV2Manager(root: tree.path)
        #expect(try manager.stats("pod") == CgroupStats(cpuUsageNanos: 7000))
        #expect(throws: CgroupError.self) { try manager.oomKillCount("pod") }
    }

    @Test func killAllUsesCgroupKillWhenPresent() throws {
        let host = try FakeV2Host(groups: ["pod"])
        defer { host.tree.remove() }
        try host.tree.write("pod/cgroup.kill", "")
        try host.tree.write("pod/cgroup.freeze", "0\n")
        try host.manager.killAll("pod")
        #expect(host.trace.writes.map(\.path) == [host.tree.path + "/pod/cgroup.kill"])
        #expect(host.trace.writes.map(\.value) == ["1"])
    }

    @Test func killAllFallsBackToTheFreezer() throws {
        let host = try FakeV2Host(groups: ["pod"])
        defer { host.tree.remove() }
        try host.tree.write("pod/cgroup.freeze", "0\n")
        try host.tree.write("pod/cgroup.events", "populated 1\nfrozen 1\n")
        try host.manager.killAll("pod")
        #expect(host.trace.values(forPathsEndingIn: "/pod/cgroup.freeze") == ["1", "0"])
    }

    @Test func processesAreRecursive() throws {
        let host = try FakeV2Host(groups: ["pod", "pod/a", "pod/b"])
        defer { host.tree.remove() }
        try host.tree.write("pod/a/cgroup.procs", "12\n11\n")
        try host.tree.write("pod/b/cgroup.procs", "13\n")
        #expect(try host.manager.processes(in: "pod") == [11, 12, 13])
        try host.manager.addProcess(99, to: "pod/b")
        #expect(try host.value("pod/b/cgroup.procs") == "99")
    }

    @Test func destroyRemovesTheSubtreeAndToleratesMissing() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.mkdir("swiftlet/pod1/app")
        try tree.mkdir("swiftlet/pod1/side/x")
        let manager = CgroupV2Manager(root: tree.path)
        try manager.destroy("swiftlet/pod1")
        #expect(!tree.exists("swiftlet/pod1"))
        #expect(tree.exists("swiftlet"))
        try manager.destroy("swiftlet/pod1")
        try manager.killAll("swiftlet/pod1")
    }

    @Test func rmdirFailureNamesTheDirectory() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        // A regular file inside makes rmdir fail with ENOTEMPTY (cgroupfs never would).
        try tree.group("pod", files: ["stray": "x"])
        let manager = CgroupV2Manager(root: tree.path)
        #expect(throws: CgroupError.rmdir(path: tree.path + "/pod", errno: ENOTEMPTY)) {
            try manager.destroy("pod")
        }
    }
}
