import Foundation
import Synchronization
import Testing

/// A pool of threads of its own for tests that make blocking calls: labs that run `ip`, `nft`,
/// `curl` or `dig` and wait for them, harnesses that wait for processes.
///
/// Swift Testing runs every test on Swift's cooperative pool (two threads on the build
/// machines), and a test that waits on a child there stalls every other test of the process
/// (see `PoolWatchdog`). A suite marked `@Suite(.ownThreads)` runs its tests with this pool
/// as their task executor preference (SE-0417): the test body, and every nonisolated async
/// function it calls, runs here, so its blocking calls take these threads and leave the
/// cooperative pool to the rest. Task-locals, and so `#expect`, work as anywhere.
public final class TestThreads: TaskExecutor, @unchecked Sendable {
    /// One pool for the test process: plenty of threads, since most of the time they wait.
    public static let shared = TestThreads(count: 16)

    private static let marker = "swiftlet.TestThreads"

    /// Whether the caller runs on one of these threads (so not on Swift's cooperative pool).
    public static var isCurrentThread: Bool {
        Thread.current.threadDictionary[marker] != nil
    }

    private let jobs = Mutex<[UnownedJob]>([])
    private let available: DispatchSemaphore

    init(count: Int) {
        available = DispatchSemaphore(value: 0)
        for index in 0..<count {
            let thread = Thread { [self] in
                // Marked in the thread's own dictionary: its OS name is not a reliable sign
                // (Foundation on Linux leaves it as inherited from the creating dispatch thread).
                Thread.current.threadDictionary[Self.marker] = true
                work()
            }
            thread.name = "test-thread-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        available.signal()
    }

    private func work() {
        while true {
            available.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs each test of a suite (or a single test) on `TestThreads`.
public struct OwnThreadsTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(TestThreads.shared) {
            try await function()
        }
    }
}

extension Trait where Self == OwnThreadsTrait {
    /// The test's blocking calls run on threads of their own (`TestThreads`).
    public static var ownThreads: Self { Self() }
}
