import Logging

extension ServiceProxy {
    /// Keeps the table in step with the recorded changes until the calling task is cancelled:
    /// kube-proxy's BoundedFrequencyRunner around syncProxyRules. A change is programmed at
    /// most `minInterval` after the previous sync (bursts of watch events become one
    /// transaction); a failed sync is retried, as a full one, after `retryInterval`; every
    /// `fullSyncInterval` everything is rewritten to repair changes made behind our back;
    /// retired chains are deleted when due.
    public func run(minInterval: Duration = .seconds(1), retryInterval: Duration = .seconds(5),
                    fullSyncInterval: Duration = .seconds(3600)) async {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakeup = continuation
        defer {
            continuation.finish()
            wakeup = nil
        }
        continuation.yield()
        var lastSync: ContinuousClock.Instant?
        var lastFullSync = clock.now
        var retryAt: ContinuousClock.Instant?
        await withTaskGroup(of: Void.self) { group in
            // A tick wakes the loop for timed work (retries, retired chains, periodic syncs).
            group.addTask { [clock] in
                while !Task.isCancelled {
                    try? await clock.sleep(for: .milliseconds(500))
                    continuation.yield()
                }
            }
            for await _ in stream {
                if Task.isCancelled { break }
                let now = clock.now
                if let retryAt, now < retryAt { continue }
                if clock.now - lastFullSync >= fullSyncInterval { needFullSync = true }
                let due = (!dirty.isEmpty || needFullSync) && initialized
                let retirementDue = nextRetirement.map { $0 <= now } ?? false
                guard due || retirementDue else { continue }
                if due, let lastSync, now - lastSync < minInterval {
                    try? await clock.sleep(until: lastSync + minInterval)
                    if Task.isCancelled { break }
                }
                do {
                    let report = try await sync()
                    lastSync = clock.now
                    if report.full { lastFullSync = clock.now }
                    retryAt = nil
                } catch {
                    lastSync = clock.now
                    retryAt = clock.now + retryInterval
                }
            }
            group.cancelAll()
        }
    }
}
