import Foundation
import Testing
@testable import Cgroups

/// The real `/sys/fs/cgroup` of the test machine, for the root-only tests.
enum RealCgroupHost {
    /// Root on a host with v1 controllers (this build machine is hybrid).
    static let isRootOnV1: Bool = getuid() == 0 && (try? Cgroups.detect())?.mode == .v1

    /// Root with a cgroup2 tree that has `cgroup.kill` (here: the hybrid `unified` tree).
    static let unifiedRoot: String? = {
        guard getuid() == 0, let info = try? Cgroups.hostInfo(), let unified = info.unifiedPath else { return nil }
        return unified
    }()

    /// A top-level group name no other test run uses.
    static func uniqueTop() -> String {
        "swiftlet-test-" + String(UInt64.random(in: 1...UInt64.max), radix: 36)
    }

    /// Every cgroup mount on the host (all v1 hierarchies, named ones too, and cgroup2).
    static func allMounts() throws -> [String] {
        let info = try Cgroups.hostInfo()
        let named = (try Cgroups.detect() as? CgroupV1Manager)?.mountPoints ?? []
        return Array(Set(info.controllerPaths.values).union(named).union(info.unifiedPath.map { [$0] } ?? []))
    }

    /// The mounts where `top` still exists: empty after a clean destroy.
    static func leftovers(_ top: String) throws -> [String] {
        try allMounts().filter { FileManager.default.fileExists(atPath: $0 + "/" + top) }.sorted()
    }

    /// Kills everything in `top` and removes it; for `defer`, so failures do not leak.
    static func cleanUp(_ manager: any CgroupManager, _ top: String) {
        try? manager.killAll(top)
        try? manager.destroy(top)
    }

    /// A kernel file of `group` in the hierarchy of `controller`, trimmed.
    static func read(_ manager: CgroupV1Manager, _ controller: String, _ group: String, _ file: String) throws -> String {
        let mount = try #require(manager.hierarchies[controller])
        return try String(contentsOfFile: "\(mount)/\(group)/\(file)", encoding: .utf8).trimmingWhitespace()
    }

    /// A shell line that moves the shell into `group` the way the runtime's C child does:
    /// writing "0" into each of `procsFiles(for:)`.
    static func joinScript(_ manager: any CgroupManager, _ group: String) -> String {
        manager.procsFiles(for: group).map { "echo 0 > \($0)" }.joined(separator: " && ")
    }

    /// Polls `condition` every 10 ms for up to `seconds`.
    static func eventually(_ seconds: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(10_000)
        }
        return try condition()
    }
}
