import CShims
import Foundation
import Glibc
import Synchronization
import Testing
@testable import Runtime

/// The monitor wait of every running container: real processes, real pidfds, libdispatch's own
/// epoll loop.
@Suite("Pidfd waiter")
struct PidfdWaiterTests {
    /// Processes to wait for, killed when the test is done with them (also when it fails).
    final class Sleepers {
        var processes: [Process] = []
        var pidfds: [Int32] = []

        init(count: Int) throws {
            for _ in 0..<count {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sleep")
                process.arguments = ["1000"]
                try process.run()
                processes.append(process)
                let pidfd = sl_pidfd_open(process.processIdentifier)
                #expect(pidfd >= 0, "pidfd_open: \(String(cString: strerror(errno)))")
                pidfds.append(pidfd)
            }
        }

        deinit {
            for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for process in processes { process.waitUntilExit() }
            for pidfd in pidfds where pidfd >= 0 { close(pidfd) }
        }
    }

    /// The waits that ended, in order.
    final class Finished: Sendable {
        let list = Mutex([Int]())
    }

    static func threadCount() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") } ?? ""
        return Int(line.split(separator: "\t").last.map(String.init) ?? "") ?? -1
    }

    /// A hundred containers waited on take no thread each (they took one each when every wait was
    /// a blocked poll), and each wait ends when its own process exits, not before.
    @Test func manyWaitsShareOneLoopAndEndOnExit() async throws {
        let count = 100
        let sleepers = try Sleepers(count: count)
        let before = Self.threadCount()
        let finished = Finished()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, pidfd) in sleepers.pidfds.enumerated() {
                group.addTask {
                    await PidfdWaiter.waitReadable(pidfd)
                    finished.list.withLock { $0.append(index) }
                }
            }
            // The waits start on the cooperative pool; this gives them time to register.
            try await Task.sleep(for: .milliseconds(300))
            let during = Self.threadCount()
            #expect(during - before < count / 4, "threads before \(before), while waiting on \(count) processes \(during)")
            #expect(finished.list.withLock { $0.isEmpty }, "a wait ended while its process was still running")

            // One exits: only its wait ends.
            kill(sleepers.processes[7].processIdentifier, SIGKILL)
            sleepers.processes[7].waitUntilExit()
            while finished.list.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
            #expect(finished.list.withLock { $0 } == [7])

            for process in sleepers.processes { kill(process.processIdentifier, SIGKILL) }
            try await group.waitForAll()
        }
        #expect(Set(finished.list.withLock { $0 }) == Set(0..<count))
    }

    /// A process that is already gone when the wait starts: the wait returns at once.
    @Test func exitedProcessReturnsAtOnce() async throws {
        let sleepers = try Sleepers(count: 1)
        kill(sleepers.processes[0].processIdentifier, SIGKILL)
        sleepers.processes[0].waitUntilExit()
        await PidfdWaiter.waitReadable(sleepers.pidfds[0])
    }
}
