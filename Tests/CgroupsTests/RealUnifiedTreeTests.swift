import Foundation
import Testing
import TestSupport
@testable import Cgroups

/// REAL cgroup2 on this hybrid host: the `unified` tree has no resource controllers, but
/// membership, `cgroup.kill` and removal work as on a v2 host. Needs root.
@Suite(.serialized, .ownThreads, .requires(RealCgroupHost.unifiedRoot != nil, "needs root and a cgroup2 mount"))
struct RealUnifiedTreeTests {
    @Test func rootV2ManagerJoinsKillsAndDestroysOnTheUnifiedTree() throws {
        let manager = CgroupV2Manager(root: try #require(RealCgroupHost.unifiedRoot))
        let top = RealCgroupHost.uniqueTop()
        let group = "\(top)/pod/app"
        defer {
            RealCgroupHost.cleanUp(manager, top)
            #expect((try? RealCgroupHost.leftovers(top)) == [])
        }
        let controllers = try String(contentsOfFile: manager.root + "/cgroup.controllers", encoding: .utf8)
        let hasMemory = controllers.split(whereSeparator: \.isWhitespace).contains("memory")
        if !hasMemory {
            // A limit that cannot be enforced is refused, and nothing is created for it.
            #expect(throws: CgroupError.controllerUnavailable(controller: "memory", needed: "a memory limit", path: "\(manager.root)/\(group)")) {
                try manager.create(group, resources: CgroupResources(memoryLimitBytes: 1 << 30))
            }
            #expect(!manager.exists(group))
        }
        try manager.create(group, resources: CgroupResources())
        #expect(manager.exists(group))

        let child = try ChildProcess.spawn(["/bin/sleep", "60"])
        defer { child.killAndReap() }
        try manager.addProcess(child.pid, to: group)
        #expect(try manager.processes(in: top) == [child.pid])
        let membership = try String(contentsOfFile: "/proc/\(child.pid)/cgroup", encoding: .utf8)
        #expect(membership.contains("0::/\(group)\n"))
        // Only cpu.stat exists without controllers: memory and pids read as 0.
        let stats = try manager.stats(group)
        #expect(stats.memoryUsageBytes == 0 || hasMemory)

        try manager.killAll(top)
        #expect(child.wait(timeout: 5) == .signaled(SIGKILL))
        #expect(try manager.processes(in: top) == [])
        try manager.destroy(top)
        #expect(!manager.exists(top))
    }
}
