import CShims
import Foundation
import Glibc
import KubeAPI
import Testing
import TestSupport
@testable import Runtime

/// Root-only: a container's own stdio kept by its monitor (Monitor/monitor.c): a stdin pipe,
/// a terminal, the attach socket's framed protocol, stdinOnce, clients that do not read or
/// flood, and attach after the runtime that started the container is gone (agent restart).
@Suite("Attach to a container's own stdio through its monitor (root)", .serialized, .ownThreads)
struct MonitorAttachTests {
    /// A container started under the monitor, as the agent starts them.
    final class Monitored {
        let harness: RuntimeHarness
        let pod: Pod
        let sandbox: RunningSandbox
        let container: RunningContainer
        let logPath: String

        init(_ yaml: String, name: String = #function) throws {
            harness = try RuntimeHarness(name)
            pod = try harness.pod(yaml)
            sandbox = try harness.runtime.createSandbox(for: pod)
            logPath = harness.root.path + "/logs/c/0.log"
            container = try harness.runtime.startContainer(pod.spec.containers[0], in: sandbox,
                                                           output: .monitored(logPath: logPath))
        }

        func attach() throws -> AttachClient { AttachClient(try harness.runtime.attach(to: container)) }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        var monitorPid: Int32? {
            if case .monitored(let process) = container.process { return process.monitorPid }
            return nil
        }

        /// Waits (at most `timeout`) until the CRI log contains `text`.
        func waitForLog(_ text: String, timeout: Double = 10) async -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while deadline.timeIntervalSinceNow > 0 {
                if log.contains(text) { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return log.contains(text)
        }

        func finish() async {
            await harness.runtime.stop(container, gracePeriod: 0)
            await harness.runtime.removeContainer(container)
            harness.runtime.removeSandbox(sandbox)
        }
    }

    static func pod(_ command: String, stdin: Bool = false, stdinOnce: Bool = false, tty: Bool = false) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: attach}
        spec:
          containers:
          - name: c
            image: busybox
            stdin: \(stdin)
            stdinOnce: \(stdinOnce)
            tty: \(tty)
            command: ["sh", "-c", \(String(reflecting: command))]
        """
    }

    @Test func stdinPipeReachesTheContainerAndStdinOnceClosesItWhenTheFirstClientLeaves() async throws {
        let c = try Monitored(Self.pod("while read l; do echo got:$l; done; echo input-ended; exit 3", stdin: true, stdinOnce: true))
        let first = try c.attach(), second = try c.attach()
        try first.input("hello\n")
        let seen = try first.read(until: "got:hello")
        #expect(seen.contains("got:hello"), "\(seen)")
        // Both clients get the output, from the moment they connected.
        #expect(try second.read(until: "got:hello").contains("got:hello"))
        // The first client that sent input leaves: with stdinOnce the container's stdin ends.
        shutdown(first.fd, Int32(SHUT_RDWR))
        let rest = try second.readToEnd()
        #expect(rest.output.contains("input-ended") && rest.ended, "\(rest)")
        let exit = await c.container.wait()
        #expect(exit.exitCode == 3, "\(exit)")
        #expect(c.log.contains(" stdout F got:hello\n") && c.log.contains(" stdout F input-ended\n"), "\(c.log)")
        // The socket is gone with the monitor: a late attach finds nothing.
        #expect(throws: RuntimeError.self) { try c.harness.runtime.attach(to: c.container) }
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func withoutStdinOnceAClientsEOFLeavesStdinOpenForTheNext() async throws {
        let c = try Monitored(Self.pod("while read l; do echo got:$l; done; echo input-ended; sleep 1000", stdin: true))
        let first = try c.attach()
        try first.input("one\n")
        #expect(try first.read(until: "got:one").contains("got:one"))
        try first.send(AttachFrame(kind: .stdinEOF))
        shutdown(first.fd, Int32(SHUT_RDWR))
        let second = try c.attach()
        try second.input("two\n")
        let seen = try second.read(until: "got:two")
        #expect(seen.contains("got:two") && !seen.contains("input-ended"), "\(seen)")
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func withoutStdinTheContainerReadsDevNullAndInputIsDropped() async throws {
        let c = try Monitored(Self.pod("readlink /proc/self/fd/0; read x; echo read-status:$?; exec sleep 1000"))
        #expect(await c.waitForLog("read-status:1"), "\(c.log)")
        #expect(c.log.contains(" stdout F /dev/null\n"), "\(c.log)")
        // Input to a container without stdin goes nowhere; the client and the monitor carry on.
        let client = try c.attach()
        try client.input("ignored\n")
        try client.send(.resize(rows: 10, columns: 20))
        #expect(try client.next(timeout: 0.5) == nil && !client.closedByMonitor)
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func ttyContainerHasItsOwnTerminalFollowsResizesAndLogsAsStdout() async throws {
        let c = try Monitored(Self.pod("tty; while read l; do echo line:$l; stty size; done", stdin: true, stdinOnce: true, tty: true))
        #expect(await c.waitForLog("/dev/pts/0"), "\(c.log)")
        // containerd logs a terminal's output as stdout (with the terminal's \r\n).
        #expect(c.log.contains(" stdout F /dev/pts/0\r\n"), "\(c.log)")
        let client = try c.attach()
        try client.send(.resize(rows: 33, columns: 111))
        try client.input("first\n")
        let seen = try client.read(until: "33 111")
        #expect(seen.contains("line:first") && seen.contains("33 111"), "\(seen)")
        try client.send(.resize(rows: 40, columns: 90))
        try client.input("second\n")
        #expect(try client.read(until: "40 90").contains("40 90"))
        // Everything on a terminal is stdout: no stderr frame ever.
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func aClientThatDoesNotReadIsDroppedAndTheContainerGoesOn() async throws {
        // 40 chunks of 100 KB, each after a "go" from the reader (lockstep: the reader keeps
        // up however loaded the machine is): 4 MB, far more than the socket allowance of a
        // client that reads nothing.
        let c = try Monitored(Self.pod("n=0; while read go; do i=0; while [ $i -lt 1000 ]; do echo line-$n-$i-01234567890123456789012345678901234567890123456789012345678901234567890123456789; i=$((i+1)); done; echo chunk-$n-done; n=$((n+1)); [ $n = 40 ] && echo all-written; done", stdin: true))
        let stalled = try c.attach()
        let reader = try c.attach()
        var seen = ""
        for n in 0..<40 {
            try reader.input("go\n")
            seen = try reader.read(until: "chunk-\(n)-done", timeout: 30)
            if !seen.contains("chunk-\(n)-done") { break }
        }
        // The reader got it all ("all-written" follows the last chunk's line)...
        if !seen.contains("all-written") { seen += try reader.read(until: "all-written", timeout: 10) }
        #expect(seen.contains("line-39-999-") && seen.contains("all-written"), "\(seen.suffix(200))")
        // ...the container was not held up by the client that does not read: all of it is in the log...
        #expect(await c.waitForLog("all-written", timeout: 10), "\(c.log.suffix(300))")
        // ...and that client was dropped: what it finds is cut short by an EOF.
        let rest = try stalled.readToEnd(timeout: 20)
        #expect(rest.ended && !rest.output.contains("all-written"), "ended: \(rest.ended), \(rest.output.count) bytes")
        // Its own memory stays small (RSS is mostly shared library pages: docs/benchmarks.md).
        if let pid = c.monitorPid { #expect(Self.privateKiB(pid) ?? .max < 1024, "monitor private memory \(Self.privateKiB(pid) ?? -1) KiB") }
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func floodingStdinOfAContainerThatNeverReadsBlocksOnlyTheFlooder() async throws {
        let c = try Monitored(Self.pod("i=0; while :; do echo tick-$i; i=$((i+1)); sleep 0.1; done", stdin: true))
        let flooder = try c.attach()
        // Non-blocking: send until the kernel refuses (the monitor has stopped reading us).
        _ = fcntl(flooder.fd, F_SETFL, fcntl(flooder.fd, F_GETFL) | O_NONBLOCK)
        let frame = AttachFrame.stdin([UInt8](repeating: 0x61, count: AttachFrame.maxInput))[0].encoded
        var sent = 0
        for _ in 0..<4096 {
            let n = frame.withUnsafeBytes { send(flooder.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        #expect(sent < 4096 * frame.count, "the monitor took \(sent) bytes of input nobody reads")
        // Output still flows to another client, and the monitor's memory stays small.
        let watcher = try c.attach()
        let seen = try watcher.read(until: "tick-", timeout: 5)
        #expect(seen.contains("tick-"), "\(seen)")
        // Its own memory stays small (RSS is mostly shared library pages: docs/benchmarks.md).
        if let pid = c.monitorPid { #expect(Self.privateKiB(pid) ?? .max < 1024, "monitor private memory \(Self.privateKiB(pid) ?? -1) KiB") }
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func hostileFramesDropOnlyTheirSenderAndExtraClientsAreRefused() async throws {
        let c = try Monitored(Self.pod("while read l; do echo got:$l; done", stdin: true))
        let unknownType = try c.attach(), oversized = try c.attach(), badResize = try c.attach()
        try unknownType.sendRaw([9, 0, 0, 0, 1, 0x41])
        try oversized.sendRaw([0, 0x7F, 0xFF, 0xFF, 0xFF])
        try badResize.sendRaw([4, 0, 0, 0, 3, 1, 2, 3])
        for client in [unknownType, oversized, badResize] {
            #expect(try client.readToEnd(timeout: 5).ended)
        }
        // 16 clients at once; the 17th is refused (its connection ends at once).
        var clients: [AttachClient] = []
        for _ in 0..<16 { clients.append(try c.attach()) }
        let extra = try c.attach()
        #expect(try extra.readToEnd(timeout: 5).ended)
        try clients[0].input("still-fine\n")
        for client in clients { #expect(try client.read(until: "got:still-fine").contains("got:still-fine")) }
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func attachWorksThroughARuntimeThatAdoptedTheContainer() async throws {
        let c = try Monitored(Self.pod("while read l; do echo got:$l; done", stdin: true))
        // A second runtime on the same state, as a restarted agent: it finds the container
        // through its state files and reaches its monitor's socket the same way.
        let restarted = PodRuntime(config: c.harness.runtime.config, images: c.harness.runtime.images,
                                   cgroups: c.harness.cgroups, nodeName: "test-node")
        let adopted = try #require(restarted.reattachContainers(in: c.sandbox).first)
        let client = AttachClient(try restarted.attach(to: adopted))
        try client.input("after-restart\n")
        #expect(try client.read(until: "got:after-restart").contains("got:after-restart"))
        adopted.closeHandles()
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    /// Private_Clean + Private_Dirty of the process (smaps_rollup), in KiB: what it costs alone.
    static func privateKiB(_ pid: Int32) -> Int? {
        guard let rollup = ProcFile.read("/proc/\(pid)/smaps_rollup") else { return nil }
        var total = 0
        for line in rollup.split(separator: "\n") where line.hasPrefix("Private_") {
            total += Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return total
    }
}
