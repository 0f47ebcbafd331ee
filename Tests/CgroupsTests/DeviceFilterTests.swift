import CShims
import Foundation
import Testing
import TestSupport
@testable import Cgroups

/// Device rules and the eBPF program they compile to (no root needed).
struct DeviceFilterTests {
    @Test func rulesParseAndPrintInTheDevicesAllowSyntax() throws {
        #expect(try DeviceRule(parsing: "c 1:3 rwm") == DeviceRule(kind: .char, major: 1, minor: 3, access: .all))
        #expect(try DeviceRule(parsing: "c 136:* rwm") == DeviceRule(kind: .char, major: 136, minor: nil, access: .all))
        #expect(try DeviceRule(parsing: "b *:* m") == DeviceRule(kind: .block, major: nil, minor: nil, access: .mknod))
        #expect(try DeviceRule(parsing: "a") == DeviceRule(kind: .all, major: nil, minor: nil, access: .all))
        #expect(try DeviceRule(parsing: "c 10:200 rw").description == "c 10:200 rw")
        // runc's list, exactly, and each rule reads back from its text.
        #expect(DeviceRule.defaultAllowed.map(\.description) == [
            "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
            "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
        ])
        for rule in DeviceRule.defaultAllowed {
            #expect(try DeviceRule(parsing: rule.description) == rule)
        }
    }

    @Test(arguments: ["", "x 1:3 rwm", "c 1:3", "c 1-3 rwm", "c a:3 rwm", "c 1:3 rwx", "c 1:3:4 r", "c 1:99999999999 r", "cc 1:3 r"])
    func malformedRulesAreRefused(text: String) {
        #expect(throws: CgroupError.self) { try DeviceRule(parsing: text) }
    }

    @Test func aRuleBecomesChecksThatSkipToTheNextRule() throws {
        let program = DeviceFilterProgram.instructions(allowing: [try DeviceRule(parsing: "c *:* m"), try DeviceRule(parsing: "c 1:3 rwm")])
        let text = program.map { "\(String($0.code, radix: 16)) \($0.regs & 0xf),\($0.regs >> 4) \($0.off) \($0.imm)" }
        #expect(text == [
            // r2 = type, r3 = access, r4 = major, r5 = minor.
            "61 2,1 0 0", "54 2,0 0 65535", "61 3,1 0 0", "74 3,0 0 16", "61 4,1 4 0", "61 5,1 8 0",
            // c *:* m: a char device, and nothing but mknod asked (access & ~m == 0).
            "55 2,0 5 2", "bc 1,3 0 0", "54 1,0 0 6", "55 1,0 2 0", "b7 0,0 0 1", "95 0,0 0 0",
            // c 1:3 rwm: type, major, minor.
            "55 2,0 4 2", "55 4,0 3 1", "55 5,0 2 3", "b7 0,0 0 1", "95 0,0 0 0",
            // Nothing matched: deny.
            "b7 0,0 0 0", "95 0,0 0 0",
        ])
    }
}

/// The program enforced by the kernel: the hybrid host's cgroup2 tree has no controllers, but
/// device programs run on it (devcgroup_check_permission runs the default hierarchy's
/// programs before the v1 rules). Needs root.
@Suite(.serialized, .ownThreads, .requires(RealCgroupHost.unifiedRoot != nil, "needs root and a cgroup2 mount"))
struct RealDeviceProgramTests {
    /// Joins `group` and tries the devices; exits 0 when the access was as expected for a
    /// group with the default rules, else with the step that went wrong.
    func probe(_ manager: CgroupV2Manager, _ group: String, scratch: String, expectDenied: Bool) throws -> ChildProcess.Exit? {
        let deniedCheck = expectDenied ? "&& exit" : "|| exit"
        let script = """
            \(RealCgroupHost.joinScript(manager, group)) || exit 90
            ( : < /dev/null ) || exit 91
            ( : < /dev/kmsg ) 2>/dev/null \(deniedCheck) 92
            mknod \(scratch)/kmsg c 1 11 || exit 93
            ( : < \(scratch)/kmsg ) 2>/dev/null \(deniedCheck) 94
            exit 0
            """
        return try ChildProcess.shell(script).wait()
    }

    @Test func theDefaultListAllowsNullAndMknodButNotOtherDevices() throws {
        let manager = CgroupV2Manager(root: try #require(RealCgroupHost.unifiedRoot))
        #expect(manager.deviceControl)
        let top = RealCgroupHost.uniqueTop()
        let scratch = NSTemporaryDirectory() + top
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer {
            RealCgroupHost.cleanUp(manager, top)
            try? FileManager.default.removeItem(atPath: scratch)
            #expect((try? RealCgroupHost.leftovers(top)) == [])
        }
        try manager.create("\(top)/pod", resources: CgroupResources(allowAllDevices: true))
        try manager.create("\(top)/pod/app", resources: CgroupResources())
        #expect(try V2Devices.attachedPrograms(dir: manager.root + "/\(top)/pod") == [])
        #expect(try V2Devices.attachedPrograms(dir: manager.root + "/\(top)/pod/app").count == 1)
        #expect(try probe(manager, "\(top)/pod/app", scratch: scratch, expectDenied: true) == .exited(0))

        // Applied again, the program is replaced, not stacked.
        try manager.update("\(top)/pod/app", resources: CgroupResources())
        #expect(try V2Devices.attachedPrograms(dir: manager.root + "/\(top)/pod/app").count == 1)

        // A privileged container's group: no program, every device opens.
        try FileManager.default.removeItem(atPath: scratch + "/kmsg")
        try manager.update("\(top)/pod/app", resources: CgroupResources(allowAllDevices: true))
        #expect(try V2Devices.attachedPrograms(dir: manager.root + "/\(top)/pod/app") == [])
        #expect(try probe(manager, "\(top)/pod/app", scratch: scratch, expectDenied: false) == .exited(0))
    }

    @Test func aGroupThatIsNotACgroupSaysWhichStepFailed() throws {
        let dir = NSTemporaryDirectory() + RealCgroupHost.uniqueTop()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            try V2Devices.apply(CgroupResources(), dir: dir)
            Issue.record("attached a device program to a plain directory")
        } catch {
            #expect(error.description.hasPrefix("bpf: query device programs of \(dir): "))
        }
    }
}
