import APIMachinery
import KubeAPI
import Storage

extension ResourceStore {
    /// Starts a watch: synthetic ADDED events for the current objects when no
    /// resourceVersion (or "0") is given or `sendInitialEvents` is set, then every change
    /// after that version, filtered by the selectors with Kubernetes' semantics (an object
    /// that stops matching is DELETED for this watcher, one that starts matching is ADDED).
    package func watch(namespace: String?, options: ListOptions) async throws(APIError) -> ObjectWatch {
        try checkFieldSelector(options)
        let prefix = prefix(namespace: namespace)
        let requested = try options.revision()
        var initial: [WatchEvent] = []
        let watch: StorageWatch
        do {
            if options.sendInitialEvents == true || requested == nil {
                let list = try await storage.list(prefix: prefix)
                // Entries that cannot be decoded are left out, as in lists.
                for stored in list.objects {
                    guard let object = try? object(from: stored) else { continue }
                    if matches(object, options) {
                        initial.append(WatchEvent(type: "ADDED", object: object, error: nil))
                    }
                }
                if options.sendInitialEvents == true, options.allowWatchBookmarks {
                    initial.append(bookmark(revision: list.revision, initialEventsEnd: true))
                }
                watch = try await storage.watch(prefix: prefix, after: list.revision)
            } else {
                watch = try await storage.watch(prefix: prefix, after: requested)
            }
        } catch StorageError.expired(let requested, let oldest) {
            // Like the watch cache: the stream opens, then says 410 Gone in an ERROR event.
            return ObjectWatch(store: self, options: options, pending: [
                WatchEvent(type: "ERROR", object: nil, error: .expired("too old resource version: \(requested) (\(oldest))")),
            ], source: nil)
        } catch {
            throw translate(error, name: "")
        }
        return ObjectWatch(store: self, options: options, pending: initial, source: watch)
    }

    /// A BOOKMARK: only the kind, apiVersion and resourceVersion of an object.
    func bookmark(revision: Int64, initialEventsEnd: Bool = false) -> WatchEvent {
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(revision))]
        if initialEventsEnd {
            metadata["annotations"] = .object(["k8s.io/initial-events-end": .string("true")])
        }
        let object = KubeObject(fields: [
            "kind": .string(resource.kind), "apiVersion": .string(resource.groupVersion), "metadata": .object(metadata),
        ])
        return WatchEvent(type: "BOOKMARK", object: object, error: nil)
    }

    /// A store event as the watcher should see it, or nil when it does not concern it.
    func translate(_ event: StorageEvent, options: ListOptions) -> WatchEvent? {
        guard let object = try? object(from: event.value, revision: event.revision) else { return nil }
        let filtered = !(options.labelSelector.isEmpty && options.fieldSelector.isEmpty)
        guard filtered else {
            return WatchEvent(type: event.type.rawValue, object: object, error: nil)
        }
        let matchesNow = matches(object, options)
        let matchedBefore = event.previousValue.flatMap { try? self.object(from: $0, revision: event.previousRevision ?? 0) }
            .map { matches($0, options) } ?? false
        switch event.type {
        case .added:
            return matchesNow ? WatchEvent(type: "ADDED", object: object, error: nil) : nil
        case .modified:
            switch (matchedBefore, matchesNow) {
            case (true, true): return WatchEvent(type: "MODIFIED", object: object, error: nil)
            case (false, true): return WatchEvent(type: "ADDED", object: object, error: nil)
            case (true, false): return WatchEvent(type: "DELETED", object: object, error: nil)
            case (false, false): return nil
            }
        case .deleted:
            return matchedBefore || matchesNow ? WatchEvent(type: "DELETED", object: object, error: nil) : nil
        }
    }
}

/// The events of one watch request, converted lazily from the store's stream.
package struct ObjectWatch: AsyncSequence, Sendable {
    package typealias Element = WatchEvent
    package typealias Failure = Never

    let store: ResourceStore
    let options: ListOptions
    /// Events to send before the live ones (initial state, a bookmark, or an error).
    let pending: [WatchEvent]
    let source: StorageWatch?

    /// Stops the underlying store watch.
    package func cancel() {
        source?.cancel()
    }

    package func makeAsyncIterator() -> Iterator {
        Iterator(watch: self, pending: pending[...], events: source?.events.makeAsyncIterator())
    }

    package struct Iterator: AsyncIteratorProtocol {
        let watch: ObjectWatch
        var pending: ArraySlice<WatchEvent>
        var events: AsyncThrowingStream<StorageEvent, any Error>.AsyncIterator?

        /// The next event; nil when the stream ends (the store closed, or this watcher fell
        /// behind: the client then watches again from the last version it saw).
        package mutating func next() async -> WatchEvent? {
            if let event = pending.popFirst() { return event }
            while true {
                let next: StorageEvent?
                do {
                    next = try await events?.next()
                } catch {
                    return nil
                }
                guard let event = next else { return nil }
                if let converted = watch.store.translate(event, options: watch.options) {
                    return converted
                }
            }
        }
    }
}
