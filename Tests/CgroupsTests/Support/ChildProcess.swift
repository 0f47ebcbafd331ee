import Foundation
import TestSupport

/// A child started with posix_spawn and reaped with waitpid, so tests control exactly when
/// it is waited for (Foundation's Process reaps on its own).
struct ChildProcess {
    enum Exit: Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    let pid: pid_t

    /// Starts `argv` with stdin, stdout and stderr on /dev/null.
    static func spawn(_ argv: [String]) throws -> ChildProcess {
        ChildProcess(pid: try TestChild.launch(argv, stdout: .null, stderr: .null).pid)
    }

    /// `sh -c script`.
    static func shell(_ script: String) throws -> ChildProcess {
        try spawn(["/bin/sh", "-c", script])
    }

    /// Waits for the child to end; after `timeout` seconds it is SIGKILLed (and reported as
    /// nil) so a broken test cannot hang.
    func wait(timeout: Double = 20) -> Exit? {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid { break }
            if rc < 0 { return nil }
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return nil
            }
            usleep(5000)
        }
        // WIFEXITED / WTERMSIG are macros Swift does not import.
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }

    /// For `defer`: kill and reap, ignoring a child that is already gone.
    func killAndReap() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
