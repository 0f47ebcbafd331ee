import Foundation

/// client-go's rate-limited work queue, in small: keys are de-duplicated while they wait; a key
/// being processed is never handed to a second worker, and one added meanwhile is processed
/// again afterwards; failures come back after a per-key exponential delay (5 ms doubling to
/// 1000 s, client-go's default item limiter). With a `priority`, the waiting key of the
/// highest priority is handed out first (equal ones in order), as kube-scheduler's active queue.
package actor WorkQueue {
    private let priority: (@Sendable (String) -> Int64)?
    private var queue: [String] = []
    private var queued: Set<String> = []
    private var processing: Set<String> = []
    private var dirtyWhileProcessing: Set<String> = []
    private var failures: [String: Int] = [:]
    private var waiters: [CheckedContinuation<String?, Never>] = []
    private var shutDown = false

    package init(priority: (@Sendable (String) -> Int64)? = nil) {
        self.priority = priority
    }

    package func add(_ key: String) {
        add(contentsOf: CollectionOfOne(key))
    }

    /// Adds `keys` together: idle workers get the best of them, not whichever came first
    /// (kube-scheduler moves pods to its active queue under one lock for the same reason).
    package func add(contentsOf keys: some Sequence<String>) {
        guard !shutDown else { return }
        for key in keys {
            if processing.contains(key) {
                dirtyWhileProcessing.insert(key)
            } else if queued.insert(key).inserted {
                queue.append(key)
            }
        }
        while !waiters.isEmpty, let key = takeNext() {
            waiters.removeFirst().resume(returning: key)
        }
    }

    /// Adds `key` after `delay` (a requeue to look again later, e.g. at a deadline).
    package nonisolated func add(_ key: String, after delay: Duration) {
        Task {
            try? await Task.sleep(for: delay)
            await add(key)
        }
    }

    /// Adds `key` after its failure back-off, which grows with each call until `forget`.
    package func addRateLimited(_ key: String) {
        let count = failures[key, default: 0]
        failures[key] = count + 1
        let milliseconds = min(5.0 * pow(2.0, Double(count)), 1_000_000)
        add(key, after: .milliseconds(Int64(milliseconds)))
    }

    /// Clears the failure count of `key` (it was processed successfully).
    package func forget(_ key: String) {
        failures[key] = nil
    }

    /// The next key to process, waiting for one; nil once shut down.
    package func next() async -> String? {
        if shutDown { return nil }
        if let key = takeNext() { return key }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Takes the waiting key of the highest priority (the first of equals) and marks it processing.
    private func takeNext() -> String? {
        guard !queue.isEmpty else { return nil }
        var index = queue.startIndex
        if let priority {
            var best = Int64.min
            for (position, key) in queue.enumerated() {
                let value = priority(key)
                if value > best { best = value; index = position }
            }
        }
        let key = queue.remove(at: index)
        queued.remove(key)
        processing.insert(key)
        return key
    }

    /// Marks `key` processed; if it was added meanwhile it goes back in the queue.
    package func done(_ key: String) {
        processing.remove(key)
        if dirtyWhileProcessing.remove(key) != nil { add(key) }
    }

    /// Workers waiting in `next()` (for tests that need one waiting).
    package var waitingWorkers: Int { waiters.count }

    package func shutdown() {
        shutDown = true
        waiters.forEach { $0.resume(returning: nil) }
        waiters = []
    }
}
