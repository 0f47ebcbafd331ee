import Foundation
import Glibc
import Runtime

/// Commands and long-running processes of integration tests: run to completion with output,
/// or spawned (optionally inside a network namespace) with output to a log file, and ended by
/// PID only.
public enum TestProcess {
    /// Runs a command to completion; throws with its output when it fails.
    @discardableResult
    public static func run(_ argv: [String]) throws -> String {
        let (status, output) = try runAllowingFailure(argv)
        guard status == 0 else {
            throw FixtureError(message: "\(argv.joined(separator: " ")): exit \(status): \(output)")
        }
        return output
    }

    /// Runs a command to completion: its exit status and combined output.
    public static func runAllowingFailure(_ argv: [String]) throws -> (Int32, String) {
        PoolWatchdog.ensureStarted()
        let start = Date()
        defer { PoolWatchdog.checkBlocking("TestProcess.run(\(argv.joined(separator: " ")))", since: start) }
        let result = try TestChild.launch(argv, stdout: .capture).finish()
        return (result.status, String(decoding: result.stdout, as: UTF8.self))
    }

    /// `runAllowingFailure` on a thread of its own: tests that wait on commands must not hold
    /// one of Swift concurrency's few cooperative threads (two on a two-core machine), or
    /// everything else in the test process, such as an in-process agent, starves.
    public static func runAsync(_ argv: [String]) async -> (Int32, String) {
        await BlockingCall.run(stackSize: 512 * 1024) {
            (try? runAllowingFailure(argv)) ?? (-1, "cannot start \(argv.first ?? "")")
        }
    }

    /// `argv` prefixed to run inside the network namespace `netns` (nsenter, not `ip netns
    /// exec`, which also makes a mount namespace: bind mounts the process makes must live in the
    /// host's mount namespace to outlive it, as on a real node).
    public static func inNetns(_ netns: String?, _ argv: [String]) -> [String] {
        guard let netns else { return argv }
        return ["/usr/bin/nsenter", "--net=/run/netns/\(netns)"] + argv
    }

    /// Starts `argv` in the background with stdout and stderr appended to `log`.
    public static func spawn(_ argv: [String], log: String, environment: [String: String] = [:]) throws -> pid_t {
        try TestChild.launch(argv, environment: environment, stdout: .file(log)).pid
    }

    /// Sends `signal` to `pid` and reaps it, escalating to SIGKILL after `timeout` seconds.
    public static func stop(_ pid: pid_t, signal: Int32 = SIGTERM, timeout: Double = 15) {
        guard pid > 0 else { return }
        let start = Date()
        defer { PoolWatchdog.checkBlocking("TestProcess.stop(\(pid))", since: start) }
        kill(pid, signal)
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    /// `stop` without blocking a cooperative thread while the process winds down.
    public static func stopAsync(_ pid: pid_t, signal: Int32 = SIGTERM, timeout: Double = 15) async {
        guard pid > 0 else { return }
        kill(pid, signal)
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    /// Whether `pid` (a child of ours) has exited; reaps it if so.
    public static func hasExited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid
    }

    /// Polls every 200 ms until `condition` holds; false on timeout. (Conditions often run
    /// kubectl, whose start costs about 50 ms of CPU: a faster poll loads a 2-core machine.)
    public static func waitFor(_ timeout: Double, _ condition: () async throws -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? await condition()) == true { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return (try? await condition()) == true
    }
}
