import Foundation
import Testing
@testable import Cgroups

/// The v1 cpuset hierarchy, joined but never limited: every level made gets its parent's CPUs
/// and memory nodes, or the kernel would refuse processes (ENOSPC). Fake tree, no root.
struct V1CpusetTests {
    /// A fake host with the limit hierarchies, a cpuset hierarchy whose root has CPUs 0-1 and
    /// node 0, and the kernel's empty files in each level of `group`.
    func host(group: [String]) throws -> (TempTree, CgroupV1Manager, WriteTrace) {
        let tree = try TempTree()
        var hierarchies: [String: String] = [:]
        for mount in ["memory", "cpuset"] {
            try tree.mkdir(mount)
            hierarchies[mount] = tree.url(mount)
        }
        try tree.write("cpuset/cpuset.cpus", "0-1\n")
        try tree.write("cpuset/cpuset.mems", "0\n")
        for depth in 1...group.count {
            try tree.group("cpuset/" + group.prefix(depth).joined(separator: "/"), files: ["cpuset.cpus": "\n", "cpuset.mems": "\n"])
            try tree.group("memory/" + group.prefix(depth).joined(separator: "/"), files: ["memory.limit_in_bytes": "-1\n"])
        }
        let trace = WriteTrace()
        return (tree, CgroupV1Manager(hierarchies: hierarchies, files: CgroupFiles(trace: trace)), trace)
    }

    @Test func everyLevelGetsItsParentsCPUsAndMemoryNodes() throws {
        let (tree, manager, trace) = try host(group: ["swiftlet", "pod1", "app"])
        defer { tree.remove() }
        try tree.write("cpuset/swiftlet/cpuset.cpus", "1\n") // set by someone before us: kept

        try manager.create("swiftlet/pod1/app", resources: CgroupResources())

        #expect(try tree.read("cpuset/swiftlet/cpuset.cpus").trimmingWhitespace() == "1")
        #expect(try tree.read("cpuset/swiftlet/pod1/cpuset.cpus") == "1")
        #expect(try tree.read("cpuset/swiftlet/pod1/app/cpuset.cpus") == "1")
        #expect(try tree.read("cpuset/swiftlet/pod1/app/cpuset.mems") == "0")
        // Top down, parents first, and only the empty files.
        let cpusetWrites = trace.writes.filter { $0.path.contains("/cpuset/") }.map { String($0.path.dropFirst(tree.path.count)) }
        #expect(cpusetWrites == [
            "/cpuset/swiftlet/cpuset.mems",
            "/cpuset/swiftlet/pod1/cpuset.cpus", "/cpuset/swiftlet/pod1/cpuset.mems",
            "/cpuset/swiftlet/pod1/app/cpuset.cpus", "/cpuset/swiftlet/pod1/app/cpuset.mems",
        ])
        // Joined, never limited: no limit is written there, the group counts as existing by
        // its limit hierarchies, and the child joins it.
        #expect(manager.exists("swiftlet/pod1/app"))
        #expect(manager.procsFiles(for: "swiftlet/pod1/app").contains(tree.url("cpuset/swiftlet/pod1/app/cgroup.procs")))
    }

    @Test func anEmptyParentIsNamed() throws {
        let (tree, manager, _) = try host(group: ["top", "pod"])
        defer { tree.remove() }
        try tree.write("cpuset/cpuset.mems", "\n")
        let error = #expect(throws: CgroupError.self) {
            try manager.create("top/pod", resources: CgroupResources())
        }
        #expect(error?.description == "parse \(tree.url("cpuset/cpuset.mems")): empty: the parent cpuset has no memory nodes to give its child groups")
    }

    @Test func groupsOfAnOlderSwiftletWithoutJoinedDirectoriesStillWork() throws {
        let (tree, manager, _) = try host(group: ["old"])
        defer { tree.remove() }
        try FileManager.default.removeItem(atPath: tree.url("cpuset/old"))
        // Only the limit hierarchy has the group: it exists, takes processes there, and
        // updates; a probe entering it does not trip over the missing cpuset directory.
        #expect(manager.exists("old"))
        #expect(manager.procsFiles(for: "old") == [tree.url("memory/old/cgroup.procs")])
        try manager.update("old", resources: CgroupResources(memoryLimitBytes: 1 << 20))
        #expect(try tree.read("memory/old/memory.limit_in_bytes") == "1048576")
    }
}
