/// Work done once for all who ask at the same time: the first caller for a key starts it, later
/// callers for the same key wait for that result (containerd's content store does this for blobs
/// with its ingest refs: two pulls of one layer download it once). When the work is done the key
/// is forgotten, so a later call (after a failure, say) starts it again.
///
/// The work runs in a task of its own, not in the first caller's: if that caller is cancelled
/// (its pod deleted), the others still get the layer. It stops only when nobody waits any more.
actor SharedWork<Key: Hashable & Sendable> {
    private struct Flight {
        var task: Task<Void, any Error>
        var waiters: Int
    }

    private var flights: [Key: Flight] = [:]

    /// Runs `work` for `key`, or waits for the run already in progress; true when this call
    /// started it (the caller did the work), false when it joined one.
    @discardableResult
    func run(_ key: Key, _ work: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        var started = false
        if flights[key] == nil {
            flights[key] = Flight(task: Task { try await work() }, waiters: 0)
            started = true
        }
        flights[key]?.waiters += 1
        guard let task = flights[key]?.task else { return started }
        defer { finishWaiting(key, task) }
        try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            Task { await self.cancelled(key, task) }
        }
        return started
    }

    private func finishWaiting(_ key: Key, _ task: Task<Void, any Error>) {
        guard var flight = flights[key], flight.task == task else { return }
        flight.waiters -= 1
        flights[key] = flight.waiters > 0 ? flight : nil
    }

    /// A waiter was cancelled: the work stops when it was the last one.
    private func cancelled(_ key: Key, _ task: Task<Void, any Error>) {
        guard let flight = flights[key], flight.task == task, flight.waiters <= 1 else { return }
        task.cancel()
    }

    /// Keys with work in progress (for tests and progress displays).
    var inFlight: Set<Key> { Set(flights.keys) }

    /// Callers waiting for `key`'s work in progress, the one that started it included (for tests).
    func waiters(for key: Key) -> Int { flights[key]?.waiters ?? 0 }
}
