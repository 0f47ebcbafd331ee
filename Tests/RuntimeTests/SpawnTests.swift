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

    /// The namespaces of `/proc/thread-self/ns/<kind>` (their inode numbers).
    func threadNamespaces() -> [String] {
        ["net", "ipc", "uts"].map { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/\($0)")) ?? "?" }
    }

    /// A pod sandbox is made by the calling thread (unshare, then setns back), not by a child:
    /// the thread must be back in its own namespaces afterwards, after a failure too, and the
    /// sandbox's namespaces must be new ones with the hostname set and `lo` up.
    @Test func sandboxNamespacesAreNewAndTheThreadReturnsToItsOwn() async throws {
        let root = try TestRoot()
        let before = threadNamespaces()
        let sandbox = try PodSandbox.create(directory: root.path + "/ns", hostname: "sandboxed")
        defer { sandbox.destroy() }
        #expect(threadNamespaces() == before)
        for (index, kind) in ["net", "ipc", "uts"].enumerated() {
            var info = Glibc.stat()
            #expect(stat(root.path + "/ns/" + kind, &info) == 0)
            #expect("\(kind):[\(info.st_ino)]" != before[index], "\(kind) namespace is new")
        }
        // Inside: the hostname and lo, seen by a process that joins the namespaces.
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        probe.arguments = ["--net=\(root.path)/ns/net", "--uts=\(root.path)/ns/uts", "sh", "-c", "hostname; ip -o link show lo"]
        let pipe = Pipe()
        probe.standardOutput = pipe
        try probe.run()
        probe.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output.hasPrefix("sandboxed\n"), "\(output)")
        #expect(output.contains("<LOOPBACK,UP,LOWER_UP>"), "lo is up: \(output)")

        // A hostname the kernel refuses (over 64 bytes): a clear error, nothing left joined.
        #expect(throws: SpawnError.self) {
            _ = try PodSandbox.create(directory: root.path + "/ns2", hostname: String(repeating: "h", count: 65))
        }
        #expect(threadNamespaces() == before)
    }
}
