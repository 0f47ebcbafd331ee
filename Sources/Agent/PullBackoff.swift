import Foundation

/// kubelet's image pull back-off: client-go's `flowcontrol.Backoff` keyed by pod uid and image
/// (`<uid>_<image>`), 10 s doubling to 300 s. After a failed pull no new pull of that image for
/// that pod starts until the delay has passed since the failure; an entry untouched for twice the
/// maximum starts again from the initial delay.
struct PullBackoff: Sendable {
    let initial: Duration
    let max: Duration
    private var entries: [String: (delay: Duration, lastUpdate: Date)] = [:]

    init(initial: Duration, max: Duration) {
        self.initial = initial
        self.max = max
    }

    /// `IsInBackOffSinceUpdate`: the end of the current delay when it has not passed yet.
    func inBackOff(_ key: String, now: Date) -> Date? {
        guard let entry = entries[key] else { return nil }
        let end = entry.lastUpdate.addingTimeInterval(entry.delay.seconds)
        return now < end ? end : nil
    }

    /// `Next`: a failure at `now` doubles the delay (or starts it).
    mutating func next(_ key: String, now: Date) {
        if let entry = entries[key], now.timeIntervalSince(entry.lastUpdate) <= (max * 2).seconds {
            entries[key] = (Swift.min(entry.delay * 2, max), now)
        } else {
            entries[key] = (initial, now)
        }
    }

    /// `GC`: forgets entries idle for twice the maximum delay.
    mutating func gc(now: Date) {
        entries = entries.filter { now.timeIntervalSince($0.value.lastUpdate) <= (max * 2).seconds }
    }
}

/// At most `permits` pulls at once (nil: no limit), first come first served: kubelet's serial
/// puller (`--serialize-image-pulls`) and parallel puller with `--max-parallel-image-pulls`.
actor PullLimiter {
    private let permits: Int?
    private var inUse = 0
    private var waiting: [(id: UUID, continuation: CheckedContinuation<Void, any Error>)] = []

    init(permits: Int?) {
        self.permits = permits
    }

    func acquire() async throws {
        guard let permits else { return }
        if inUse < permits, waiting.isEmpty {
            inUse += 1
            return
        }
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiting.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    func release() {
        guard permits != nil else { return }
        if waiting.isEmpty {
            inUse -= 1
        } else {
            // The permit passes straight to the next in line.
            waiting.removeFirst().continuation.resume()
        }
    }

    private func cancel(_ id: UUID) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}
