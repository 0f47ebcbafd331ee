import APIMachinery
import KubeAPI
import Storage

extension ResourceStore {
    /// Starts a watch: synthetic ADDED events for the current objects when no
    /// resourceVersion (or "0") is given or `sendInitialEvents` is set, then every change
    /// after that version, filtered by the selectors with Kubernetes' semantics (an object
    /// that stops matching is DELETED for this watcher, one that starts matching is ADDED).
    ///
    /// With `json`, events carry each object as JSON written from its stored bytes (for a
    /// watch answered in plain JSON) and are parsed only where a selector must look inside.
    package func watch(namespace: String?, options: ListOptions, json: Bool = false) async throws(APIError) -> ObjectWatch {
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
                    let event = StorageEvent(type: .added, key: stored.key, value: stored.value, previousValue: nil, revision: stored.revision)
                    if let added = translate(event, options: options, json: json) { initial.append(added) }
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
            return ObjectWatch(store: self, options: options, json: json, pending: [
                WatchEvent(type: "ERROR", object: nil, error: .expired("too old resource version: \(requested) (\(oldest))")),
            ], source: nil)
        } catch {
            throw translate(error, name: "")
        }
        return ObjectWatch(store: self, options: options, json: json, pending: initial, source: watch)
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

    /// A store event as the watcher should see it, or nil when it does not concern it; with
    /// `json`, the object written from the stored bytes rides along (see `watch`).
    func translate(_ event: StorageEvent, options: ListOptions, json: Bool) -> WatchEvent? {
        let filtered = !(options.labelSelector.isEmpty && options.fieldSelector.isEmpty)
        var written: [UInt8]?
        if json, conversion == nil {
            var bytes: [UInt8] = []
            if StoredJSON.append(event.value, resourceVersion: String(event.revision), to: &bytes) { written = bytes }
        }
        if !filtered, let written {
            return WatchEvent(type: event.type.rawValue, object: nil, error: nil, json: written)
        }
        guard let object = try? object(from: event.value, revision: event.revision) else { return nil }
        guard filtered else {
            return WatchEvent(type: event.type.rawValue, object: object, error: nil)
        }
        guard let type = filteredType(event, object: object, options: options) else { return nil }
        return WatchEvent(type: type, object: object, error: nil, json: written)
    }

    /// Kubernetes' semantics for a watch with selectors: an object that stops matching is
    /// DELETED for this watcher, one that starts matching is ADDED, nil when neither matches.
    private func filteredType(_ event: StorageEvent, object: KubeObject, options: ListOptions) -> String? {
        let matchesNow = matches(object, options)
        let matchedBefore = event.previousValue.flatMap { try? self.object(from: $0, revision: event.previousRevision ?? 0) }
            .map { matches($0, options) } ?? false
        switch event.type {
        case .added:
            return matchesNow ? "ADDED" : nil
        case .modified:
            switch (matchedBefore, matchesNow) {
            case (true, true): return "MODIFIED"
            case (false, true): return "ADDED"
            case (true, false): return "DELETED"
            case (false, false): return nil
            }
        case .deleted:
            return matchedBefore || matchesNow ? "DELETED" : nil
        }
    }
}

/// The events of one watch request, converted lazily from the store's stream.
package struct ObjectWatch: AsyncSequence, Sendable {
    package typealias Element = WatchEvent
    package typealias Failure = Never

    let store: ResourceStore
    let options: ListOptions
    /// Whether events carry their objects' JSON written from the stored bytes.
    let json: Bool
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
                if let converted = watch.store.translate(event, options: watch.options, json: watch.json) {
                    return converted
                }
            }
        }
    }
}
