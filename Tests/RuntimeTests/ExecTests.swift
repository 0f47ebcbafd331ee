import Foundation
import Glibc
import KubeAPI
import Testing
import TestSupport
@testable import Runtime

/// Root-only: running a command inside a running container (exec probes).
@Suite("Exec in a container (root)", .ownThreads)
struct ExecTests {
    @Test func execSeesTheContainerAndReportsExitCodes() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: exec}
            spec:
              containers:
              - {name: c, image: busybox, command: ["sh", "-c", "touch /tmp/here; sleep 1000"]}
            """)
        let sandbox = try h.runtime.createSandbox(for: pod)
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let running = try h.runtime.startContainer(pod.spec.containers[0], in: sandbox, output: .fds(stdout: null, stderr: null))
        let spec = pod.spec.containers[0]
        // Until the container has run its `touch` (a fixed 300 ms was a hope on a loaded machine).
        let touched = await TestProcess.waitFor(30) {
            try await h.runtime.exec(["test", "-e", "/tmp/here"], in: running, sandbox: sandbox, spec: spec, timeout: .seconds(5)) == 0
        }
        #expect(touched, "the container never created /tmp/here")
        #expect(try await h.runtime.exec(["cat", "/tmp/here"], in: running, sandbox: sandbox, spec: spec, timeout: .seconds(5)) == 0)
        #expect(try await h.runtime.exec(["cat", "/tmp/absent"], in: running, sandbox: sandbox, spec: spec, timeout: .seconds(5)) == 1)
        #expect(try await h.runtime.exec(["sh", "-c", "exit 7"], in: running, sandbox: sandbox, spec: spec, timeout: .seconds(5)) == 7)
        // A command that outlives its timeout is killed and reported as such (nil).
        #expect(try await h.runtime.exec(["sleep", "1000"], in: running, sandbox: sandbox, spec: spec, timeout: .seconds(1)) == nil)
        await h.runtime.stop(running, gracePeriod: 0)
        await h.runtime.removeContainer(running)
        h.runtime.removeSandbox(sandbox)
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }
}
