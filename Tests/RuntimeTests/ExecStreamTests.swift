import CShims
import Foundation
import Glibc
import KubeAPI
import Testing
import TestSupport
@testable import Runtime

/// Root-only: `kubectl exec`'s runtime half on real containers: stdio as pipes or a terminal
/// of the container's, exit codes and signals, and what the process sees of the container.
@Suite("Exec with stdio in a container (root)", .ownThreads)
struct ExecStreamTests {
    /// A running container of the busybox image (`command` keeps it alive), and its sandbox.
    final class Running {
        let harness: RuntimeHarness
        let pod: Pod
        let sandbox: RunningSandbox
        let container: RunningContainer
        let null: Int32

        init(_ yaml: String, name: String = #function) async throws {
            harness = try RuntimeHarness(name)
            pod = try harness.pod(yaml)
            sandbox = try harness.runtime.createSandbox(for: pod)
            null = open("/dev/null", O_WRONLY | O_CLOEXEC)
            container = try harness.runtime.startContainer(pod.spec.containers[0], in: sandbox,
                                                           output: .fds(stdout: null, stderr: null))
            try await Task.sleep(for: .milliseconds(200))
        }

        func start(_ command: [String], _ stdio: ExecStdio) throws -> ExecProcess {
            try harness.runtime.startExec(command, in: container, sandbox: sandbox, spec: pod.spec.containers[0], stdio: stdio)
        }

        /// Runs `command` with stdout and stderr piped (and `input` on stdin when given).
        func run(_ command: [String], input: String? = nil) async throws -> (Runtime.ExitStatus, out: String, err: String) {
            let exec = try start(command, ExecStdio(stdin: input != nil, stdout: true, stderr: true))
            if let stdin = exec.stdin {
                writeAll(stdin, input ?? "")
                close(stdin)
            }
            let out = readAll(exec.stdout!), err = readAll(exec.stderr!)
            let status = await exec.wait()
            exec.process.closeHandle()
            return (status, out, err)
        }

        func finish() async {
            await harness.runtime.stop(container, gracePeriod: 0)
            await harness.runtime.removeContainer(container)
            harness.runtime.removeSandbox(sandbox)
            close(null)
        }
    }

    static let sleeper = """
        apiVersion: v1
        kind: Pod
        metadata: {name: exec-stream}
        spec:
          containers:
          - name: c
            image: busybox
            workingDir: /work
            env: [{name: FOO, value: from-pod}]
            command: ["sh", "-c", "touch /tmp/made-by-the-container; exec sleep 1000"]
        """

    @Test func stdoutAndStderrApartStdinPipedExitCodesAndSignals() async throws {
        let c = try await Running(Self.sleeper)
        let (status, out, err) = try await c.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(status == Runtime.ExitStatus(code: 3, signal: nil))
        #expect(out == "out\n" && err == "err\n", "\(out) / \(err)")

        // stdin reaches the command, and closing our end is its EOF (nobody else holds it).
        let echoed = try await c.run(["cat"], input: "hello\nworld\n")
        #expect(echoed.0.code == 0 && echoed.out == "hello\nworld\n", "\(echoed)")

        // A signal is reported as such; Kubernetes' exit code for it is 128 + n.
        let killed = try await c.run(["sh", "-c", "kill -TERM $$"])
        #expect(killed.0.signal == SIGTERM && killed.0.exitCode == 143, "\(killed.0)")

        // A command that is not there: runc's message.
        #expect(throws: SpawnError.self) { try c.start(["no-such-command"], ExecStdio()) }
        do {
            _ = try c.start(["no-such-command"], ExecStdio())
        } catch {
            #expect("\(error)" == "exec: \"no-such-command\": executable file not found in $PATH")
        }
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func theCommandSeesTheContainer() async throws {
        let c = try await Running(Self.sleeper)
        // Its root (a file the container made, once it has: the setup's 200 ms is no promise on
        // a loaded machine), environment, working directory, hostname.
        let made = await TestProcess.waitFor(30) { try await c.run(["test", "-e", "/tmp/made-by-the-container"]).0.code == 0 }
        #expect(made, "the container never made /tmp/made-by-the-container")
        let view = try await c.run(["sh", "-c", "ls /tmp/made-by-the-container; echo $FOO; pwd; hostname; echo $PATH"])
        #expect(view.0.code == 0, "\(view.err)")
        #expect(view.out == "/tmp/made-by-the-container\nfrom-pod\n/work\nexec-stream\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
                "\(view.out)")
        // Every namespace is the container's (PID 1 there is the container's init), the network,
        // IPC and UTS ones the pod sandbox's; the cgroups are the container's.
        let namespaces = try await c.run(["sh", "-c", """
            for ns in mnt pid net ipc uts cgroup; do
              [ "$(readlink /proc/self/ns/$ns)" = "$(readlink /proc/1/ns/$ns)" ] || echo "$ns differs"
            done
            [ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ] || echo "cgroups differ"
            readlink /proc/self/ns/net
            """])
        var sandboxNet = stat()
        #expect(fstat(c.sandbox.sandbox.networkNamespace ?? -1, &sandboxNet) == 0)
        #expect(namespaces.out == "net:[\(sandboxNet.st_ino)]\n", "\(namespaces.out) \(namespaces.err)")
        #expect(try c.harness.cgroups.processes(in: c.container.cgroup).count == 1, "only the container's init once the exec ended")
        // The container's privileges: containerd's capabilities, the RuntimeDefault filter.
        let privileges = try await c.run(["sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status"])
        #expect(privileges.out == "CapEff:\t00000000a80425fb\nSeccomp:\t2\n", "\(privileges.out)")
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func aTerminalOfTheContainersOwnWithResizes() async throws {
        let c = try await Running("""
            apiVersion: v1
            kind: Pod
            metadata: {name: exec-tty}
            spec:
              securityContext: {runAsUser: 1000}
              containers:
              - {name: c, image: busybox, command: ["sleep", "1000"]}
            """)
        let exec = try c.start(["sh", "-c", "tty; stty size; echo $TERM; id -u; echo via-dev-tty > /dev/tty; read line; stty size"],
                               ExecStdio(stdin: true, stdout: true, stderr: false, terminal: TerminalSize(rows: 30, columns: 100)))
        let master = try #require(exec.terminal)
        #expect(exec.stdin == nil && exec.stdout == nil && exec.stderr == nil)
        // The first half of the output, then a resize, then a line that lets the script go on.
        let first = readUntil(master, "via-dev-tty\r\n")
        #expect(first == "/dev/pts/0\r\n30 100\r\nxterm\r\n1000\r\nvia-dev-tty\r\n", "\(first.debugDescription)")
        try exec.resize(TerminalSize(rows: 40, columns: 120))
        writeAll(master, "go\n")
        let rest = readAll(master) // EIO once the command (the terminal's last user) has ended
        #expect(rest == "go\r\n40 120\r\n", "\(rest.debugDescription)")
        #expect(await exec.wait().code == 0)
        exec.process.closeHandle()
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func theProcessesOfAnExecHoldNothingOfTheAgents() async throws {
        let c = try await Running(Self.sleeper)
        let exec = try c.start(["sleep", "1000"], ExecStdio(stdin: true, stdout: true, stderr: true))
        // E (our child) holds no fd at all; the command only its three stdio ends.
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(exec.process.pid)/fd")
        #expect(fds.isEmpty, "the exec's parent holds \(fds)")
        let children = (ProcFile.read("/proc/\(exec.process.pid)/task/\(exec.process.pid)/children") ?? "")
            .split(separator: " ").compactMap { Int32($0) }
        #expect(children.count == 1)
        let commandFDs = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(children.first ?? 0)/fd").sorted()
        #expect(commandFDs == ["0", "1", "2"], "\(commandFDs)")
        // Killing our child takes the command with it (parent-death signal).
        #expect(exec.kill())
        #expect(await exec.wait().signal == SIGKILL)
        exec.process.closeHandle()
        for fd in [exec.stdin, exec.stdout, exec.stderr].compactMap({ $0 }) { close(fd) }
        // Dead: gone, or a zombie of the container's init (sleep reaps nobody, as under runc).
        let gone = await TestProcess.waitFor(30) {
            ProcFile.read("/proc/\(children.first ?? 0)/stat").map { $0.contains(") Z ") } ?? true
        }
        #expect(gone, "the command outlived the exec")
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }

    @Test func execIntoAnEndedContainerSaysItIsNotRunning() async throws {
        let c = try await Running("""
            apiVersion: v1
            kind: Pod
            metadata: {name: exec-ended}
            spec:
              containers:
              - {name: c, image: busybox, command: ["true"]}
            """)
        _ = await c.container.wait()
        #expect(throws: RuntimeError.notFound("container \"c\" is not running")) {
            try c.start(["true"], ExecStdio())
        }
        #expect(throws: RuntimeError.invalidContainer("c", "exec: the command is empty")) {
            try c.start([], ExecStdio())
        }
        await c.finish()
        #expect(c.harness.leftovers().isEmpty, "\(c.harness.leftovers())")
    }
}

/// Writes all of `text` to `fd`.
private func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        bytes = bytes.dropFirst(n)
    }
}

/// Reads `fd` to EOF (or EIO, a terminal's end) and closes it.
private func readAll(_ fd: Int32) -> String {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { break }
        bytes += buffer[0..<n]
    }
    close(fd)
    return String(decoding: bytes, as: UTF8.self)
}

/// Reads `fd` until the text read ends with `suffix` (or EOF).
private func readUntil(_ fd: Int32, _ suffix: String) -> String {
    var bytes: [UInt8] = []
    var byte: UInt8 = 0
    while !String(decoding: bytes, as: UTF8.self).hasSuffix(suffix) {
        let n = read(fd, &byte, 1)
        if n < 0 && errno == EINTR { continue }
        guard n == 1 else { break }
        bytes.append(byte)
    }
    return String(decoding: bytes, as: UTF8.self)
}
