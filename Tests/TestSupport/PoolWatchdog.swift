import Foundation
import Glibc
import Synchronization

/// Makes a blocked cooperative thread pool visible in test logs.
///
/// Swift concurrency runs every task of the test process, and every test of Swift Testing, on a
/// pool of as many threads as there are cores (two on the build machines). A test that waits
/// synchronously on one of them (a child process, `usleep`, a blocking read, a lazy static whose
/// initialiser runs a build) takes a thread from everything else: in-process servers, agents and
/// controllers then run late, and assertions about them fail far from the cause. In one full run
/// the image tests, each building fixtures synchronously, held both threads for 51 s.
///
/// A thread of its own enqueues a probe task every 250 ms; when a probe has not started after
/// `threshold` seconds, it prints a warning to stderr, and, where gdb is installed, the test and
/// source frames of the threads that are running Swift jobs at that moment: the blocking call.
/// Started by the shared test helpers (`TestRoot`, `TestProcess`, `Fixtures`);
/// `SWIFTLET_TEST_WATCHDOG=0` turns it off.
public enum PoolWatchdog {
    /// Seconds without progress that count as a stall.
    public static let threshold: Double = 3

    /// Starts the watchdog once per process.
    public static func ensureStarted() {
        _ = started
    }

    private static let started: Bool = {
        guard ProcessInfo.processInfo.environment["SWIFTLET_TEST_WATCHDOG"] != "0" else { return false }
        let thread = Thread { watch() }
        thread.name = "pool-watchdog"
        thread.stackSize = 512 * 1024
        thread.start()
        return true
    }()

    /// Warns when a blocking helper called from inside a task (so on a pool thread) took long:
    /// such a caller should use the helper's async form.
    public static func checkBlocking(_ what: @autoclosure () -> String, since start: Date) {
        let took = Date().timeIntervalSince(start)
        // A test of an `.ownThreads` suite blocks one of `TestThreads`' threads: that is their purpose.
        guard took >= 1, withUnsafeCurrentTask(body: { $0 != nil }), !TestThreads.isCurrentThread else { return }
        report(String(format: "%@ held a cooperative thread for %.1f s: call its async form", what(), took))
    }

    private static func watch() {
        // gdb stops the whole process for a moment: a few stacks per run are enough.
        var stackDumpsLeft = 3
        while true {
            let ran = Atomic<Bool>(false)
            let sent = Date()
            // A probe on the global executor; `ran` is set once a pool thread gets to it.
            Task { ran.store(true, ordering: .releasing) }
            var reported = false
            while !ran.load(ordering: .acquiring) {
                usleep(50_000)
                let waited = Date().timeIntervalSince(sent)
                if !reported, waited >= threshold {
                    reported = true
                    report("Swift's cooperative pool has run nothing for \(Int(waited)) s: a test is blocking its threads")
                    if stackDumpsLeft > 0 {
                        stackDumpsLeft -= 1
                        reportStacks()
                    }
                }
            }
            if reported {
                report(String(format: "the cooperative pool ran again after %.1f s (stalled since %@)",
                              Date().timeIntervalSince(sent), ISO8601DateFormatter().string(from: sent)))
            }
            usleep(250_000)
        }
    }

    private static func report(_ message: String) {
        FileHandle.standardError.write(Data("⚠︎ PoolWatchdog: \(message)\n".utf8))
    }

    /// The frames of the project's own code on the threads that run Swift jobs, from gdb.
    private static func reportStacks() {
        let gdb = "/usr/bin/gdb"
        guard FileManager.default.isExecutableFile(atPath: gdb) else {
            report("(install gdb to see the blocking call's stack)")
            return
        }
        // gdb stops every thread of this process, this one too, while it prints: its output
        // goes to a file, since a pipe that this thread drains would fill and hang both.
        let file = NSTemporaryDirectory() + "swiftlet-pool-stall-\(getpid()).txt"
        defer { unlink(file) }
        guard FileManager.default.createFile(atPath: file, contents: nil) else {
            report("cannot create \(file)")
            return
        }
        // gdb can hang while attaching (a thread inside vfork, seen here); then it is killed
        // after 20 s, which leaves this process stopped: a shell of its own continues it.
        let pid = String(getpid())
        let script = "timeout -s KILL 20 \(gdb) -p \(pid) -batch -nx -ex 'thread apply all bt 40' </dev/null; kill -CONT \(pid)"
        do {
            _ = try TestChild.launch(["/bin/sh", "-c", script], stdout: .file(file), stderr: .null).wait()
        } catch {
            report("gdb: \(error)")
            return
        }
        let output = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        // TestThreads run jobs too (swift_job_run under TestThreads.swift): those threads are
        // not the cooperative pool's, and blocking there is what they are for.
        for thread in output.components(separatedBy: "\nThread ")
        where thread.contains("swift_job_run") && !thread.contains("TestThreads.swift") {
            // The innermost frames of our sources say what it does, the test frames who asked.
            let lines = thread.split(separator: "\n")
            let frames = lines.filter { $0.contains("/Sources/") }.prefix(3) + lines.filter { $0.contains("/Tests/") }.prefix(5)
            guard !frames.isEmpty else { continue }
            report("a pool thread is in:\n" + frames.map { "    " + $0.prefix(300) }.joined(separator: "\n"))
        }
    }
}
