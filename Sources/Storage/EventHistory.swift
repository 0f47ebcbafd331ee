import Synchronization

/// The in-memory window of recent events that every watch fans out from (the role of the
/// Kubernetes API server's watch cache): a ring of the last `capacity` events of the whole
/// store, plus the live watchers.
///
/// Revisions are global and every write makes exactly one event, so the ring always holds
/// every event in `(compactedRevision, newestRevision]`: a watch from any revision in that
/// window resumes with no gap; older ones get `StorageError.expired` (HTTP 410 Gone).
///
/// The owning store calls `append` in revision order after each commit; `subscribe` runs on
/// the store's executor too, so a new watcher sees each event exactly once. The lock only
/// guards against watchers going away on other threads.
package final class EventHistory: Sendable {
    /// Events a watcher may have queued before it is judged too slow and closed.
    package static let watcherBufferLimit = 10_000

    private struct Subscriber {
        let prefix: String
        /// Live events at or below this revision are not for this watcher: it subscribed
        /// after a revision the history had not reached yet (the etcd backend's feed lags
        /// behind writes another server made).
        let after: Int64
        let continuation: AsyncThrowingStream<StorageEvent, any Error>.Continuation
    }

    private struct State {
        var ring: [StorageEvent?]
        var head = 0
        var count = 0
        var compactedRevision: Int64
        var subscribers: [UInt64: Subscriber] = [:]
        var nextID: UInt64 = 0
    }

    package let capacity: Int
    private let state: Mutex<State>

    /// A history holding at most `capacity` events, seeded with `events` (oldest first, the
    /// newest `capacity` kept) that follow `compactedRevision`.
    package init(capacity: Int, compactedRevision: Int64, events: [StorageEvent]) {
        precondition(capacity > 0, "an event history needs room for at least one event")
        self.capacity = capacity
        var state = State(ring: Array(repeating: nil, count: capacity), compactedRevision: compactedRevision)
        for event in events {
            Self.push(event, into: &state, capacity: capacity)
        }
        self.state = Mutex(state)
    }

    /// The newest revision whose events are no longer available.
    package var compactedRevision: Int64 {
        state.withLock { $0.compactedRevision }
    }

    /// Records a committed event and hands it to every watcher of a matching prefix.
    package func append(_ event: StorageEvent) {
        let slow = state.withLock { state in
            Self.push(event, into: &state, capacity: capacity)
            var slow: [Subscriber] = []
            for (id, subscriber) in state.subscribers where event.revision > subscriber.after && event.key.hasPrefix(subscriber.prefix) {
                if case .dropped = subscriber.continuation.yield(event) {
                    slow.append(subscriber)
                    state.subscribers[id] = nil
                }
            }
            return slow
        }
        // Outside the lock: finishing runs the stream's termination handler, which locks.
        for subscriber in slow {
            subscriber.continuation.finish(throwing: StorageError.watcherTooSlow)
        }
    }

    /// The retained events after `revision` under `prefix`, oldest first; throws `.expired`
    /// when some of them were already dropped.
    package func events(after revision: Int64, prefix: String) throws -> [StorageEvent] {
        try state.withLock { state in
            try Self.events(after: revision, prefix: prefix, in: state, capacity: capacity)
        }
    }

    /// A watcher of `prefix` that first receives `initial`, then the retained events after
    /// `revision`, then live ones.
    package func subscribe(prefix: String, initial: [StorageEvent], after revision: Int64) throws -> StorageWatch {
        try state.withLock { state in
            let backlog = try Self.events(after: revision, prefix: prefix, in: state, capacity: capacity)
            let limit = Self.watcherBufferLimit + initial.count + backlog.count
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: StorageEvent.self, bufferingPolicy: .bufferingOldest(limit))
            for event in initial { continuation.yield(event) }
            for event in backlog { continuation.yield(event) }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = Subscriber(prefix: prefix, after: revision, continuation: continuation)
            continuation.onTermination = { [weak self] _ in
                self?.unsubscribe(id)
            }
            return StorageWatch(events: stream, stop: { continuation.finish() })
        }
    }

    /// Ends every watch (the store is closing).
    package func finishAll() {
        let subscribers = state.withLock { state in
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers {
            subscriber.continuation.finish(throwing: StorageError.closed)
        }
    }

    /// Forgets every event and ends every watch with `.watcherTooSlow`, so their clients watch
    /// again from their last revision (and get 410 Gone if that is now older than
    /// `compactedRevision`): for a feed that lost events it cannot get back (etcd compacted
    /// them while the backend was reconnecting).
    package func reset(compactedRevision: Int64) {
        let subscribers = state.withLock { state in
            defer { state.subscribers.removeAll() }
            state.ring = Array(repeating: nil, count: capacity)
            state.head = 0
            state.count = 0
            state.compactedRevision = compactedRevision
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers {
            subscriber.continuation.finish(throwing: StorageError.watcherTooSlow)
        }
    }

    /// How many watchers are connected (for tests and metrics).
    package var watcherCount: Int {
        state.withLock { $0.subscribers.count }
    }

    private func unsubscribe(_ id: UInt64) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }

    // MARK: - Ring

    private static func push(_ event: StorageEvent, into state: inout State, capacity: Int) {
        let tail = (state.head + state.count) % capacity
        if state.count == capacity {
            if let evicted = state.ring[state.head] {
                state.compactedRevision = evicted.revision
            }
            state.ring[tail] = event
            state.head = (state.head + 1) % capacity
        } else {
            state.ring[tail] = event
            state.count += 1
        }
    }

    private static func events(after revision: Int64, prefix: String, in state: State, capacity: Int) throws -> [StorageEvent] {
        guard revision >= state.compactedRevision else {
            throw StorageError.expired(requested: revision, oldest: state.compactedRevision)
        }
        var result: [StorageEvent] = []
        // Binary search would do, but windows are small and this runs once per watch.
        for offset in 0..<state.count {
            guard let event = state.ring[(state.head + offset) % capacity] else { continue }
            if event.revision > revision, event.key.hasPrefix(prefix) {
                result.append(event)
            }
        }
        return result
    }
}
