import CShims
import Foundation
import Glibc
import KubeAPI

/// Commands run inside a running container: exec probes (CRI ExecSync) and `kubectl exec`
/// (CRI Exec), entering the container as runc's `exec` does (`sl_exec_in_container`).
extension PodRuntime {
    /// Runs `command` inside a running container, as the container's user with its environment,
    /// capabilities and seccomp profile (CRI ExecSync, used by exec probes). Returns the exit
    /// code, or nil when it did not finish within `timeout` (it is then killed).
    public func exec(_ command: [String], in container: RunningContainer, sandbox: RunningSandbox,
                     spec: Container, timeout: Duration) async throws -> Int32? {
        let exec = try execSpec(command, in: container, sandbox: sandbox, spec: spec, terminal: false)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        var quiet = exec.spec
        quiet.stdin = null
        quiet.stdout = null
        quiet.stderr = null
        let child = try Self.enter(container, exec.pidfd) { try Spawner.exec(in: exec.pidfd, quiet) }
        defer { child.closeHandle() }
        let killer = Task {
            try await Task.sleep(for: timeout)
            _ = child.signal(SIGKILL)
        }
        let status = await child.wait()
        let timedOut = killer.isCancelled == false && status.signal == SIGKILL
        killer.cancel()
        return timedOut ? nil : status.exitCode
    }

    /// Starts `command` inside a running container with the stdio asked for: pipes, or a
    /// terminal opened in the container (then `TERM=xterm`, as containerd's CRI exec sets it).
    /// The process has the container's namespaces, cgroup, root, user and groups, capabilities,
    /// seccomp profile, no_new_privs, environment and working directory.
    ///
    /// Blocking (image config and user lookups, clone): call it from a thread of its own. The
    /// returned fds are the caller's to close.
    public func startExec(_ command: [String], in container: RunningContainer, sandbox: RunningSandbox,
                          spec: Container, stdio: ExecStdio) throws -> ExecProcess {
        guard !command.isEmpty else {
            throw RuntimeError.invalidContainer(container.name, "exec: the command is empty")
        }
        if let bad = command.first(where: { $0.utf8.contains(0) }) {
            throw RuntimeError.invalidContainer(container.name, "exec: argument \(bad.debugDescription) contains a NUL byte")
        }
        let exec = try execSpec(command, in: container, sandbox: sandbox, spec: spec, terminal: stdio.terminal != nil)
        var childSpec = exec.spec
        // Our ends (returned) and the command's ends (closed here once it has them).
        var ours: [Int32] = []
        var theirs: [Int32] = []
        func pipe() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [-1, -1]
            guard sl_pipe_cloexec(&fds) == 0 else { throw SystemError("pipe2", "exec stdio") }
            return (fds[0], fds[1])
        }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { throw SystemError("open", "/dev/null") }
        theirs.append(null)
        var stdin: Int32?, stdout: Int32?, stderr: Int32?
        do {
            if stdio.terminal == nil {
                childSpec.stdin = null
                childSpec.stdout = null
                childSpec.stderr = null
                if stdio.stdin {
                    let p = try pipe()
                    ours.append(p.write); theirs.append(p.read)
                    childSpec.stdin = p.read
                    stdin = p.write
                }
                if stdio.stdout {
                    let p = try pipe()
                    ours.append(p.read); theirs.append(p.write)
                    childSpec.stdout = p.write
                    stdout = p.read
                }
                if stdio.stderr {
                    let p = try pipe()
                    ours.append(p.read); theirs.append(p.write)
                    childSpec.stderr = p.write
                    stderr = p.read
                }
            }
            let started = try Self.enter(container, exec.pidfd) {
                try Spawner.exec(in: exec.pidfd, childSpec, terminal: stdio.terminal)
            }
            for fd in theirs { close(fd) }
            return ExecProcess(process: started.process, stdin: stdin, stdout: stdout, stderr: stderr,
                               terminal: started.ptyMaster)
        } catch {
            for fd in ours + theirs { close(fd) }
            throw error
        }
    }

    /// The spawn spec of a command in `container`: its plan (user, environment, capabilities,
    /// seccomp, cwd) with `command` as argv and the container's cgroup, and the container's
    /// pidfd to enter it through.
    private func execSpec(_ command: [String], in container: RunningContainer, sandbox: RunningSandbox,
                          spec: Container, terminal: Bool) throws -> (spec: SpawnSpec, pidfd: Int32) {
        let pidfd = container.process.pidfd
        guard pidfd >= 0, sl_pidfd_send_signal(pidfd, 0) == 0 else {
            throw RuntimeError.notFound("container \"\(container.name)\" is not running")
        }
        let image = try images.resolve(spec.image ?? "")
        let layers = try images.layerDirectories(for: image)
        let plan = try builder.plan(pod: sandbox.pod, container: spec, image: image, layers: layers, layout: sandbox.layout,
                                    attempt: container.attempt, sandbox: sandbox.sandbox, info: containerInfo(sandbox))
        var exec = plan.spawn
        exec.process.argv = command
        if terminal {
            exec.process.env.removeAll { $0.hasPrefix("TERM=") }
            exec.process.env.append("TERM=xterm")
        }
        exec.cgroupProcs = cgroups.procsFiles(for: container.cgroup)
        return (exec, pidfd)
    }

    /// Runs the spawn, turning "the container's process is gone" into the error users expect.
    private static func enter<T>(_ container: RunningContainer, _ pidfd: Int32, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SpawnError where error.step == "setns" && error.errno == ESRCH {
            throw RuntimeError.notFound("container \"\(container.name)\" is not running")
        }
    }
}
