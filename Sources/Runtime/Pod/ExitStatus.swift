import CShims
import Foundation
import Glibc

/// How a process ended: an exit code, or the signal that killed it.
public struct ExitStatus: Sendable, Equatable, CustomStringConvertible {
    public let code: Int32?
    public let signal: Int32?

    init(waitStatus status: Int32) {
        if status & 0x7f == 0 {
            code = (status >> 8) & 0xff
            signal = nil
        } else {
            code = nil
            signal = status & 0x7f
        }
    }

    public init(code: Int32?, signal: Int32?) {
        self.code = code
        self.signal = signal
    }

    /// Kubernetes reports a signal death as 128 + signal (SIGKILL → 137).
    public var exitCode: Int32 { code ?? 128 + (signal ?? 0) }

    public var description: String {
        if let signal { return "killed by signal \(signal)" }
        return "exit code \(code ?? -1)"
    }
}

extension SpawnedProcess {
    /// Waits for the process to exit, on a thread of its own (waitid on a pidfd blocks).
    public func wait() async -> ExitStatus {
        let pidfd = self.pidfd
        let pid = self.pid
        return await BlockingCall.run {
            var status: Int32 = 0
            if pidfd >= 0 {
                _ = sl_pidfd_wait(pidfd, 0, &status)
            } else {
                _ = retryingEINTR { waitpid(pid, &status, 0) }
            }
            return ExitStatus(waitStatus: status)
        }
    }

    /// Sends a signal through the pidfd: after the process is reaped this fails with ESRCH
    /// instead of hitting whatever process reused the pid.
    public func signal(_ sig: Int32) -> Bool {
        pidfd >= 0 && sl_pidfd_send_signal(pidfd, sig) == 0
    }

    public func closeHandle() {
        if pidfd >= 0 { close(pidfd) }
    }
}
