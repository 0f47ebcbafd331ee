import Foundation
import Testing
import TestSupport
@testable import Cgroups

/// REAL cgroup v1 on this host: needs root (CI runs as root) and v1 controllers.
/// Every test works under its own `swiftlet-test-<random>` group and removes it in a defer.
@Suite(.serialized, .ownThreads, .requires(RealCgroupHost.isRootOnV1, "needs root and cgroup v1 controllers"))
struct RealCgroupV1Tests {
    let manager: CgroupV1Manager

    init() throws {
        manager = try #require(try Cgroups.detect() as? CgroupV1Manager)
    }

    @Test func rootLimitsAreReadBackFromTheKernel() throws {
        let top = RealCgroupHost.uniqueTop()
        let group = "\(top)/pod/app"
        defer {
            RealCgroupHost.cleanUp(manager, top)
            #expect((try? RealCgroupHost.leftovers(top)) == [])
        }

        try manager.create(group, resources: CgroupResources(
            cpuLimitMillis: 500, cpuRequestMillis: 250, memoryLimitBytes: 64 << 20, pidsLimit: 50))
        #expect(manager.exists(group))
        #expect(try RealCgroupHost.read(manager, "cpu", group, "cpu.shares") == "256")
        #expect(try RealCgroupHost.read(manager, "cpu", group, "cpu.cfs_period_us") == "100000")
        #expect(try RealCgroupHost.read(manager, "cpu", group, "cpu.cfs_quota_us") == "50000")
        #expect(try RealCgroupHost.read(manager, "memory", group, "memory.limit_in_bytes") == "67108864")
        #expect(try RealCgroupHost.read(manager, "pids", group, "pids.max") == "50")
        let devices = Set(try RealCgroupHost.read(manager, "devices", group, "devices.list").split(separator: "\n").map(String.init))
        #expect(devices == Set(V1Devices.defaultRules))
        // Parents made on the way keep the kernel defaults.
        #expect(try RealCgroupHost.read(manager, "devices", "\(top)/pod", "devices.list") == "a *:* rwm")
        #expect(try RealCgroupHost.read(manager, "pids", "\(top)/pod", "pids.max") == "max")

        // Idempotent create, and a pod group re-applied while it has a child (the kernel
        // would refuse a wholesale device rewrite with EINVAL).
        try manager.create(group, resources: CgroupResources(
            cpuLimitMillis: 500, cpuRequestMillis: 250, memoryLimitBytes: 64 << 20, pidsLimit: 50))
        try manager.create("\(top)/pod", resources: CgroupResources(allowAllDevices: true))

        try manager.update(group, resources: CgroupResources())
        #expect(try RealCgroupHost.read(manager, "cpu", group, "cpu.shares") == "1024")
        #expect(try RealCgroupHost.read(manager, "cpu", group, "cpu.cfs_quota_us") == "-1")
        #expect(try RealCgroupHost.read(manager, "memory", group, "memory.limit_in_bytes") == "9223372036854771712")
        #expect(try RealCgroupHost.read(manager, "pids", group, "pids.max") == "max")

        try manager.destroy(top)
        #expect(!manager.exists(group) && !manager.exists(top))
        #expect(try RealCgroupHost.leftovers(top) == [])
    }

    @Test func rootSleepProcessIsAddedListedCountedAndKilled() throws {
        let top = RealCgroupHost.uniqueTop()
        let group = "\(top)/pod/app"
        defer { RealCgroupHost.cleanUp(manager, top) }
        try manager.create(group, resources: CgroupResources(memoryLimitBytes: 64 << 20, pidsLimit: 10))

        let child = try ChildProcess.spawn(["/bin/sleep", "60"])
        defer { child.killAndReap() }
        try manager.addProcess(child.pid, to: group)

        #expect(try manager.processes(in: group) == [child.pid])
        #expect(try manager.processes(in: top) == [child.pid])
        let membership = try String(contentsOfFile: "/proc/\(child.pid)/cgroup", encoding: .utf8)
        for controller in ["cpu", "cpuacct", "memory", "pids", "devices", "freezer"] {
            #expect(membership.contains(":\(controller):/\(group)\n"), "\(controller) in \(membership)")
        }
        // The hierarchies joined without limits (as runc joins them): none is left at the root.
        for controller in ["cpuset", "blkio", "name=systemd"] where manager.hierarchies[controller] != nil {
            #expect(membership.contains(":\(controller):/\(group)\n"), "\(controller) in \(membership)")
        }
        if manager.unified != nil { #expect(membership.contains("0::/\(group)\n"), "\(membership)") }
        let stats = try manager.stats(group)
        #expect(stats.pidsCurrent >= 1)
        #expect(try manager.stats(top).pidsCurrent >= 1)
        #expect(stats.oomKills == 0)

        try manager.killAll(top)
        #expect(child.wait(timeout: 5) == .signaled(SIGKILL))
        #expect(try manager.processes(in: top) == [])
        #expect(try RealCgroupHost.read(manager, "freezer", top, "freezer.state") == "THAWED")
        try manager.destroy(top)
        #expect(try RealCgroupHost.leftovers(top) == [])
    }

    @Test func rootMemoryHogIsOOMKilledAndCounted() throws {
        let top = RealCgroupHost.uniqueTop()
        let group = "\(top)/pod/app"
        defer { RealCgroupHost.cleanUp(manager, top) }
        try manager.create(group, resources: CgroupResources(memoryLimitBytes: 32 << 20, pidsLimit: 64))
        #expect(try manager.oomKillCount(group) == 0)

        // The shell joins through procsFiles, then keeps a 500 MB string: far over 32 MiB,
        // and bounded should the limit not hold.
        let child = try ChildProcess.shell(RealCgroupHost.joinScript(manager, group)
            + " && x=$(head -c 500000000 /dev/zero | tr '\\0' a) && echo survived")
        defer { child.killAndReap() }
        #expect(child.wait(timeout: 30) == .signaled(SIGKILL))

        #expect(try manager.oomKillCount(group) >= 1)
        // Counted for the pod too (v1 keeps it per group; the manager sums the subtree).
        #expect(try manager.oomKillCount("\(top)/pod") >= 1)
        #expect(try manager.stats(top).oomKills >= 1)
    }

    @Test func rootPidsLimitMakesForkFail() throws {
        let top = RealCgroupHost.uniqueTop()
        let group = "\(top)/app"
        defer { RealCgroupHost.cleanUp(manager, top) }
        try manager.create(group, resources: CgroupResources(pidsLimit: 4))

        let child = try ChildProcess.shell(RealCgroupHost.joinScript(manager, group)
            + " && for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; wait")
        defer { child.killAndReap() }
        // dash gives up with "Cannot fork" (exit 2) when the fifth task is refused.
        #expect(child.wait(timeout: 10) == .exited(2))
        let events = try RealCgroupHost.read(manager, "pids", group, "pids.events")
        #expect(events.hasPrefix("max ") && events != "max 0", "pids.events: \(events)")
        #expect(try manager.processes(in: group).count <= 4)
        #expect(try manager.stats(group).pidsCurrent <= 4)

        try manager.killAll(top)
        #expect(try manager.processes(in: top) == [])
    }

    @Test func rootMemoryLimitBelowUsageIsAClearError() throws {
        let top = RealCgroupHost.uniqueTop()
        let group = "\(top)/app"
        defer { RealCgroupHost.cleanUp(manager, top) }
        try manager.create(group, resources: CgroupResources())

        // Holds about 50 MB of anonymous memory (no swap here, so it cannot be reclaimed).
        let child = try ChildProcess.shell(RealCgroupHost.joinScript(manager, group)
            + " && x=$(head -c 50000000 /dev/zero | tr '\\0' a) && sleep 60")
        defer { child.killAndReap() }
        #expect(try RealCgroupHost.eventually { try manager.stats(group).memoryUsageBytes > 45_000_000 })

        let error = #expect(throws: CgroupError.self) {
            try manager.update(group, resources: CgroupResources(memoryLimitBytes: 8 << 20))
        }
        guard case .limitBelowUsage(let path, let limit, let usage)? = error else {
            Issue.record("expected limitBelowUsage, got \(String(describing: error))")
            return
        }
        #expect(path == manager.hierarchies["memory"].map { "\($0)/\(group)/memory.limit_in_bytes" })
        #expect(limit == 8 << 20)
        #expect((usage ?? 0) > 8 << 20)
        #expect(error?.description.contains(": EBUSY (the memory limit 8388608 bytes is below what the group already uses") == true)
        // The kernel kept the old limit.
        #expect(try RealCgroupHost.read(manager, "memory", group, "memory.limit_in_bytes") == "9223372036854771712")
    }

    @Test func rootKillAllStopsAForkingLoop() throws {
        let top = RealCgroupHost.uniqueTop()
        let group = "\(top)/pod/app"
        defer { RealCgroupHost.cleanUp(manager, top) }
        try manager.create(group, resources: CgroupResources(pidsLimit: 200))

        let child = try ChildProcess.shell(RealCgroupHost.joinScript(manager, group)
            + " && while :; do sleep 30 & sleep 0.01; done")
        defer { child.killAndReap() }
        #expect(try RealCgroupHost.eventually { try manager.processes(in: top).count >= 10 })

        try manager.killAll(top)
        #expect(try manager.processes(in: top) == [])
        #expect(child.wait(timeout: 5) == .signaled(SIGKILL))
        try manager.destroy(top)
        #expect(try RealCgroupHost.leftovers(top) == [])
    }

    @Test func rootDestroyOfAGroupWithProcessesFailsClearlyAfterRetrying() throws {
        let top = RealCgroupHost.uniqueTop()
        defer { RealCgroupHost.cleanUp(manager, top) }
        try manager.create("\(top)/app", resources: CgroupResources())
        let child = try ChildProcess.spawn(["/bin/sleep", "60"])
        defer { child.killAndReap() }
        try manager.addProcess(child.pid, to: "\(top)/app")

        let started = Date()
        let error = #expect(throws: CgroupError.self) { try manager.destroy(top) }
        #expect(Date().timeIntervalSince(started) >= 0.9)
        guard case .rmdir(let path, let err)? = error else {
            Issue.record("expected rmdir error, got \(String(describing: error))")
            return
        }
        #expect(path.hasSuffix("/\(top)/app") && err == EBUSY)
        #expect(error?.description.contains("EBUSY (Device or resource busy): the group still has processes") == true)
    }
}
