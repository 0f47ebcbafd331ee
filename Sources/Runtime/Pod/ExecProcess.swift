import CShims
import Glibc

/// A terminal's window size, as `kubectl exec -t` reports it (rows and columns).
public struct TerminalSize: Sendable, Equatable {
    public var rows: UInt16
    public var columns: UInt16

    public init(rows: UInt16, columns: UInt16) {
        self.rows = rows
        self.columns = columns
    }
}

/// Which of a command's stdio the caller wants, as kubelet's exec options
/// (`stdin`, `stdout`, `stderr`, `tty`). Streams not asked for are /dev/null.
public struct ExecStdio: Sendable, Equatable {
    public var stdin: Bool
    public var stdout: Bool
    public var stderr: Bool
    /// A terminal of this initial size (0x0: the kernel's default until the first resize); its
    /// master carries the command's input and output, so `stdin`/`stdout`/`stderr` only say
    /// whether the caller reads and writes it.
    public var terminal: TerminalSize?

    public init(stdin: Bool = false, stdout: Bool = true, stderr: Bool = true, terminal: TerminalSize? = nil) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.terminal = terminal
    }
}

/// A command started inside a container (`kubectl exec`): our child process and our ends of
/// its stdio. The fds belong to the caller, who closes them (closing `stdin` is the command's
/// EOF); `close()` closes whichever are still set and the process handle.
public struct ExecProcess: Sendable {
    /// Our child (see `sl_exec_in_container`): it ends as the command ends.
    public let process: SpawnedProcess
    /// The write end of the command's stdin pipe; nil when stdin was not asked for or with a
    /// terminal (write to `terminal` instead).
    public let stdin: Int32?
    /// The read ends of its stdout and stderr pipes; nil when not asked for or with a terminal.
    public let stdout: Int32?
    public let stderr: Int32?
    /// The terminal's master side: the command's output is read from it and its input
    /// written to it. nil without a terminal.
    public let terminal: Int32?

    /// Sets the terminal's window size (the command gets SIGWINCH). No-op without a terminal.
    public func resize(_ size: TerminalSize) throws {
        guard let terminal else { return }
        guard sl_pty_resize(terminal, size.rows, size.columns) == 0 else {
            throw SystemError("ioctl(TIOCSWINSZ)", "\(size.columns)x\(size.rows)")
        }
    }

    /// Waits for the command to end (on a thread of its own).
    public func wait() async -> ExitStatus { await process.wait() }

    /// Kills the command (and its parent-death-signalled child in the container); false when
    /// it has ended already.
    @discardableResult
    public func kill() -> Bool { process.signal(SIGKILL) }
}
