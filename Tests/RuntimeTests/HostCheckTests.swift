import TestSupport
import Foundation
import Testing
@testable import Runtime

@Suite("check-config")
struct HostCheckTests {
    @Test func thisHostPassesAndIsReportedHybrid() throws {
        let items = HostCheck().run()
        let missing = items.filter { $0.status == .missing }
        #expect(missing.isEmpty, "\(missing)")
        let mode = try #require(items.first { $0.group == "cgroups" && $0.name == "mode" })
        // The CI host mounts v1 controllers plus an empty cgroup2 tree.
        #expect(mode.detail.hasPrefix("v1 (hybrid"), "\(mode)")
        #expect(items.contains { $0.group == "Filesystems" && $0.name == "overlay" && $0.status == .ok })
        #expect(items.contains { $0.group == "Security" && $0.name == "seccomp filters" && $0.status == .ok })
    }

    @Test func missingFeaturesAreReportedFromAFakeProc() throws {
        let root = try TestRoot()
        let proc = root.path + "/proc"
        let fm = FileManager.default
        try fm.createDirectory(atPath: proc + "/self/ns", withIntermediateDirectories: true)
        for ns in ["mnt", "pid", "uts", "ipc"] { fm.createFile(atPath: proc + "/self/ns/" + ns, contents: nil) }
        try "nodev\tproc\nnodev\ttmpfs\n".write(toFile: proc + "/filesystems", atomically: true, encoding: .utf8)
        try "Name:\tx\n".write(toFile: proc + "/self/status", atomically: true, encoding: .utf8)
        try "".write(toFile: proc + "/self/mounts", atomically: true, encoding: .utf8)
        let items = HostCheck(procRoot: proc, sysRoot: root.path + "/sys", cgroupRoot: root.path + "/cgroup").run()
        func status(_ group: String, _ name: String) -> HostCheck.Status? {
            items.first { $0.group == group && $0.name == name }?.status
        }
        #expect(status("Namespaces", "net") == .missing)
        #expect(status("Namespaces", "mnt") == .ok)
        #expect(status("Filesystems", "overlay") == .missing)
        #expect(status("Filesystems", "tmpfs") == .ok)
        #expect(status("Security", "seccomp filters") == .missing)
        #expect(status("cgroups", "mount") == .missing)
    }
}
