import Foundation
import Glibc
import Testing
import Runtime
import TestSupport

/// The install story of issue 13 in real Debian 12 VMs (systemd as PID 1, cgroup v2 with
/// controllers) under QEMU: Tests/vm/run.sh builds what a user installs, the VM image (cached
/// in .build/vm), boots the VMs on a bridge inside a network namespace of its own and runs
/// the scenario (Tests/vm/scenarios/cluster.sh says what it checks). The host's network is
/// never touched.
///
/// This test does not skip: a machine that cannot run it (not root, no QEMU, no Debian
/// kernel...) fails it with the reason, as CI must notice a VM test that stopped running.
/// docs/install.md says how long it takes.
@Suite(.serialized, .ownThreads)
struct VMScenarioTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    @Test func installServerAndAgentsRestartRebootAndUninstallInVMs() async throws {
        let log = Self.repository + "/.build/vm/test-output.log"
        try FileManager.default.createDirectory(atPath: Self.repository + "/.build/vm", withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: log)
        let started = Date()
        let status = try await VMScript.run(["/bin/sh", Self.repository + "/Tests/vm/run.sh", "cluster"], log: log)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let minutes = String(format: "%.1f", Date().timeIntervalSince(started) / 60)
        let tail = output.split(separator: "\n", omittingEmptySubsequences: false).suffix(60).joined(separator: "\n")
        #expect(status == 0, "Tests/vm/run.sh cluster failed (exit \(status)) after \(minutes) min; whole output in \(log):\n\(tail)")
        // The scenario's own verdict, not only the exit status of the harness.
        #expect(output.contains("run.sh: scenario cluster passed"), "the scenario did not report passing; see \(log)")
    }
}

/// Runs the harness with its output in a file; waits for it on a thread of its own.
enum VMScript {
    static func run(_ argv: [String], log: String) async throws -> Int32 {
        let child = try TestChild.launch(argv, stdout: .file(log))
        return await BlockingCall.run { child.wait() }
    }
}
