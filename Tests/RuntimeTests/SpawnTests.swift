import TestSupport
import CShims
import Foundation
import Glibc
import Testing
@testable import Runtime

/// Root-only: the C spawn path for real, on a plain directory rootfs.
@Suite("Spawn path (root)")
struct SpawnTests {
    func spec(_ rootfs: String, _ argv: [String]) -> SpawnSpec {
        var process = ProcessSpec(argv: argv, env: ["PATH=/bin", "HOME=/root"])
        process.rlimits = ContainerDefaults.rlimits()
        var spec = SpawnSpec(rootfs: rootfs, process: process)
        spec.cloneFlags |= SL_CLONE_NEWUTS | SL_CLONE_NEWIPC | SL_CLONE_NEWNET
        spec.hostname = "spawned"
        spec.mounts = ContainerDefaults.mounts(privileged: false)
        spec.maskedPaths = ContainerDefaults.maskedPaths
        spec.readonlyPaths = ContainerDefaults.readonlyPaths
        return spec
    }

    @Test func containerSeesItsOwnHostnameAndPid1() async throws {
        let root = try TestRoot()
        let rootfs = try root.busyboxRootfs()
        let (status, output) = try await runToCompletion(
            spec(rootfs, ["sh", "-c", "hostname; echo pid=$$; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; ls /proc/kcore && wc -c < /proc/kcore 2>/dev/null; cat /proc/kcore | head -c 10 | wc -c"]),
            in: root)
        print(output)
        #expect(status == ExitStatus(code: 0, signal: nil), "\(output)")
        #expect(output.contains("spawned\n"))
        #expect(output.contains("pid=1\n"))
        #expect(output.contains("CapEff:\t00000000a80425fb"))
    }

    @Test func missingCommandIsReportedLikeRunc() async throws {
        let root = try TestRoot()
        let rootfs = try root.busyboxRootfs()
        await #expect(throws: SpawnError.self) {
            _ = try await runToCompletion(spec(rootfs, ["no-such-command"]), in: root)
        }
        do {
            _ = try Spawner.spawn(spec(rootfs, ["no-such-command"]))
            Issue.record("spawn of a missing command succeeded")
        } catch let error as SpawnError {
            #expect(error.description == "exec: \"no-such-command\": executable file not found in $PATH")
        }
    }
}
