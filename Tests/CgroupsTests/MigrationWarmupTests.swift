import Foundation
import Testing
import TestSupport
@testable import Cgroups

/// The warm-up write goes to this process's own group in a hierarchy /proc/self/cgroup names.
@Suite struct MigrationWarmupTests {
    static let hybrid = """
        9:name=systemd:/system.slice/swiftlet-agent.service
        8:pids:/system.slice/swiftlet-agent.service
        4:memory:/
        1:cpu,cpuacct:/
        0::/system.slice/swiftlet-agent.service
        """

    @Test func theFirstHierarchyNamedWinsAndTheRootGroupHasNoSuffix() {
        let v1 = [("pids", "/sys/fs/cgroup/pids"), ("memory", "/sys/fs/cgroup/memory")]
        #expect(MigrationWarmup.procsFile(v1, selfCgroup: Self.hybrid)
            == "/sys/fs/cgroup/pids/system.slice/swiftlet-agent.service/cgroup.procs")
        #expect(MigrationWarmup.procsFile([("memory", "/sys/fs/cgroup/memory")], selfCgroup: Self.hybrid)
            == "/sys/fs/cgroup/memory/cgroup.procs")
        #expect(MigrationWarmup.procsFile([("cpuacct", "/sys/fs/cgroup/cpu,cpuacct")], selfCgroup: Self.hybrid)
            == "/sys/fs/cgroup/cpu,cpuacct/cgroup.procs", "a co-mounted controller")
        #expect(MigrationWarmup.procsFile([("", "/sys/fs/cgroup/unified")], selfCgroup: Self.hybrid)
            == "/sys/fs/cgroup/unified/system.slice/swiftlet-agent.service/cgroup.procs")
    }

    @Test func nothingIsWrittenWhereTheGroupIsUnknownOrOdd() {
        #expect(MigrationWarmup.procsFile([("pids", "/sys/fs/cgroup/pids")], selfCgroup: "0::/\n") == nil)
        #expect(MigrationWarmup.procsFile([("pids", "/x")], selfCgroup: "8:pids:/a/../../etc\n") == nil)
        #expect(MigrationWarmup.procsFile([("pids", "/x")], selfCgroup: "garbage\n8:pids\n::::\n") == nil)
        #expect(MigrationWarmup.procsFile([], selfCgroup: Self.hybrid) == nil)
    }
}

/// REAL: the warm-up leaves this process where it was.
@Suite(.serialized, .ownThreads, .requires(RealCgroupHost.isRootOnV1, "needs root and cgroup v1 controllers"))
struct RealMigrationWarmupTests {
    @Test func theWarmUpMovesNothing() throws {
        let manager = try #require(try Cgroups.detect() as? CgroupV1Manager)
        let before = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        let mounts = ["pids", "name=systemd", "memory"].compactMap { key in manager.hierarchies[key].map { (key, $0) } }
        let path = try #require(MigrationWarmup.procsFile(mounts, selfCgroup: before))
        #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        manager.prepareMigration()
        // The write runs on a thread of its own; give it time to finish (not a timing assertion).
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) == before)
    }
}
