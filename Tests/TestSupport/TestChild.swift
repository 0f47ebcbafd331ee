import CShims
import Foundation
import Glibc

/// A child process of a test that inherits nothing but its stdio.
///
/// Every process a test starts goes through here. Foundation's `Process` and `Pipe` on Linux make
/// pipes without `O_CLOEXEC` and leave other descriptors open in the child, so a pipe made for
/// one short command (`ip -o link`) was inherited by a daemon another test started at the same
/// moment; the command's reader then waited for end-of-file until that daemon ended, 75 s later,
/// holding one of the two cooperative threads: the "75-second stall" of issue 20. Here the
/// parent's ends are `O_CLOEXEC` and the child closes every descriptor from 3 up
/// (glibc's `posix_spawn_file_actions_addclosefrom_np`), as swiftlet's own spawn path does with
/// close_range(2).
public struct TestChild: Sendable {
    /// Where the child's stdin comes from.
    public enum Input: Sendable {
        case null
        /// These bytes, then end-of-file (through an unlinked temporary file, so writing can
        /// never block on a child that does not read).
        case bytes([UInt8])
    }

    /// Where stdout or stderr goes.
    public enum Output: Sendable {
        case null
        /// A pipe, read by `finish()`.
        case capture
        /// Appended to this file.
        case file(String)
        /// stderr only: wherever stdout goes.
        case stdout
    }

    public let pid: pid_t
    let stdoutPipe: Int32
    let stderrPipe: Int32

    /// Starts `argv` (an absolute path first). `environment` is added to this process' own.
    public static func launch(_ argv: [String], environment: [String: String] = [:], directory: String? = nil,
                              stdin: Input = .null, stdout: Output = .null, stderr: Output = .stdout) throws -> TestChild {
        precondition(!argv.isEmpty, "TestChild.launch needs a command")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        defer { childEnds.forEach { close($0) } }
        func fail(_ what: String, _ err: Int32) -> FixtureError {
            parentEnds.forEach { close($0) }
            return FixtureError(message: "\(what) for \(argv[0]): \(String(cString: strerror(err)))")
        }

        switch stdin {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .bytes(let bytes):
            let fd = sl_tmpfile_cloexec("/tmp")
            guard fd >= 0 else { throw fail("stdin file", errno) }
            childEnds.append(fd)
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { throw fail("writing stdin", errno) }
                written += n
            }
            lseek(fd, 0, SEEK_SET)
            posix_spawn_file_actions_adddup2(&actions, fd, 0)
        }

        var pipes: [Int32] = [-1, -1]
        for (target, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch output {
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .stdout:
                precondition(target == 2, ".stdout is for stderr only")
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
            case .capture:
                var ends: [Int32] = [-1, -1]
                guard sl_pipe_cloexec(&ends) == 0 else { throw fail("pipe2", errno) }
                parentEnds.append(ends[0])
                childEnds.append(ends[1])
                pipes[Int(target) - 1] = ends[0]
                posix_spawn_file_actions_adddup2(&actions, ends[1], target)
            }
        }
        if let directory { sl_spawn_actions_chdir(&actions, directory) }
        sl_spawn_actions_closefrom(&actions, 3)

        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        let cArgv = argv.map { strdup($0) } + [nil]
        defer { cArgv.forEach { free($0) } }
        // The child starts as from a shell: no blocked signals (the test runner's threads may
        // block SIGTERM, and a daemon that cannot see it is only ever SIGKILLed) and default
        // dispositions for the signals a runtime may have ignored.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, cArgv, envp)
        guard rc == 0 else { throw fail("posix_spawn", rc) }
        return TestChild(pid: pid, stdoutPipe: pipes[0], stderrPipe: pipes[1])
    }

    /// Reads the captured outputs to their end and reaps the child (blocking: call it off the
    /// cooperative pool, e.g. through `TestProcess.runAsync` or `BlockingCall`). The status is
    /// the exit code, or 128 + the signal that ended the child (as a shell reports it).
    public func finish() -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        var buffers: [Int32: [UInt8]] = [:]
        var open = [stdoutPipe, stderrPipe].filter { $0 >= 0 }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    buffers[entry.fd, default: []].append(contentsOf: chunk[..<n])
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        open.forEach { close($0) }
        return (wait(), buffers[stdoutPipe] ?? [], buffers[stderrPipe] ?? [])
    }

    /// Reaps the child, waiting for it to end.
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return Self.decode(status)
    }

    /// Exit code, or 128 + signal.
    public static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
