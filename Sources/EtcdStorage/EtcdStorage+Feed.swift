import Storage
import Synchronization

/// The watch side: one etcd watch over every key feeds the event window; watches from older
/// revisions get an etcd watch of their own.
extension EtcdStorage {
    func startFeed() {
        let task = Task { [self] in
            var pause = Duration.milliseconds(100)
            // Until close() cancels it.
            while !Task.isCancelled {
                if await runFeedOnce() {
                    pause = .milliseconds(100)
                } else {
                    try? await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(2))
                }
            }
        }
        feed.withLock { $0.tasks.append(task) }
    }

    /// One etcd watch from the revision after the window's newest, until it breaks. Returns
    /// whether it received anything (to reset the reconnect pause).
    private func runFeedOnce() async -> Bool {
        let start = feed.withLock { $0.revision } + 1
        var received = false
        let connection: GRPCConnection
        do {
            connection = try await client.streamConnection()
        } catch {
            return false
        }
        do {
            // The whole keyspace: every revision then has an event in the window, the compactor's
            // own writes included, so the window's newest revision is the store's and any
            // resourceVersion up to it can be resumed.
            let all = Self.range(prefix: "")
            try await Self.watch(on: connection, key: all.key, end: all.end, from: start,
                                 limit: client.settings.maximumReplyBytes) { response in
                received = true
                if response.canceled {
                    if response.compactRevision > 0 {
                        // Events we missed were compacted: no watcher can be served without a gap.
                        history.reset(compactedRevision: response.compactRevision - 1)
                        feed.withLock { $0.revision = response.compactRevision - 1 }
                    }
                    return false
                }
                for event in response.events {
                    let converted = Self.storageEvent(event)
                    history.append(converted)
                    feed.withLock { $0.revision = max($0.revision, converted.revision) }
                }
                return true
            }
        } catch {
            // Cancelled: the store is closing, and the connection serves other calls still.
            if !Task.isCancelled { await client.streamFailed(connection) }
        }
        return received
    }

    /// An etcd watch of `[key, end)` from revision `start` (with previous values) on
    /// `connection`, handing each reply to `handle` until it returns false or the stream ends.
    /// `hasleader`: etcd cancels the watch when its member loses the raft leader (clientv3's
    /// WithRequireLeader, which kube-apiserver's watches use), so a member cut off from the others
    /// cannot feed stale events; the caller then moves to another member.
    static func watch(on connection: GRPCConnection, key: [UInt8], end: [UInt8], from start: Int64, limit: Int,
                      _ handle: (EtcdWatchResponse) throws -> Bool) async throws {
        try await connection.withStream("/etcdserverpb.Watch/Watch", metadata: [("hasleader", "true")]) { messages, writer in
            try await writer.send(ProtoWriter.encode {
                EtcdWatchCreateRequest(key: key, rangeEnd: end, startRevision: start).encode(into: &$0)
            })
            while let message = try await messages.next(limit: limit) {
                guard try handle(try EtcdWatchResponse(bytes: message)) else { return }
            }
        }
    }

    /// etcd's event as the Storage protocol's, as kube-apiserver's etcd3/event.go parseEvent
    /// reads it: a put whose create and mod revisions agree made the key; a delete carries the
    /// last value in `prev_kv`.
    static func storageEvent(_ event: EtcdEvent) -> StorageEvent {
        let key = String(decoding: event.kv.key, as: UTF8.self)
        switch event.kind {
        case .put where event.kv.createRevision == event.kv.modRevision:
            return StorageEvent(type: .added, key: key, value: event.kv.value, previousValue: nil, revision: event.kv.modRevision)
        case .put:
            return StorageEvent(type: .modified, key: key, value: event.kv.value, previousValue: event.prevKV?.value,
                                revision: event.kv.modRevision, previousRevision: event.prevKV?.modRevision)
        case .delete:
            // Without prev_kv (etcd compacted the old value first) the value is empty and the API
            // layer reports the entry as damaged rather than inventing one.
            return StorageEvent(type: .deleted, key: key, value: event.prevKV?.value ?? [], previousValue: event.prevKV?.value,
                                revision: event.kv.modRevision, previousRevision: event.prevKV?.modRevision)
        }
    }

    /// A watch of `prefix` from `revision + 1` straight from etcd, for revisions older than the
    /// window. Checked first with a read at that revision, so a compacted one is `.expired`
    /// before the watch opens, as the protocol promises.
    func dedicatedWatch(prefix: String, after revision: Int64) async throws -> StorageWatch {
        let current = try await currentRevision()
        let (key, end) = Self.range(prefix: prefix)
        if revision < current {
            do {
                _ = try await client.range(EtcdRangeRequest(key: key, rangeEnd: end, revision: revision + 1, countOnly: true))
            } catch {
                throw try await storageError(error, requestedRevision: revision)
            }
        }
        let connection = try await Self.mapped { try await client.streamConnection() }
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: StorageEvent.self, bufferingPolicy: .bufferingOldest(EventHistory.watcherBufferLimit))
        let limit = client.settings.maximumReplyBytes
        let task = Task {
            do {
                try await Self.watch(on: connection, key: key, end: end, from: revision + 1, limit: limit) { response in
                    if response.canceled {
                        throw response.compactRevision > 0
                            ? StorageError.expired(requested: revision, oldest: response.compactRevision)
                            : StorageError.backend("etcd cancelled the watch of \(prefix): \(response.cancelReason)")
                    }
                    for event in response.events {
                        if case .dropped = continuation.yield(Self.storageEvent(event)) {
                            throw StorageError.watcherTooSlow
                        }
                    }
                    return true
                }
                continuation.finish(throwing: StorageError.closed)
            } catch let error as StorageError {
                continuation.finish(throwing: error)
            } catch {
                // The member went away: like a slow watcher, the client watches again from its
                // last revision (on another member).
                continuation.finish(throwing: StorageError.watcherTooSlow)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return StorageWatch(events: stream, stop: { continuation.finish() })
    }

    // MARK: - Compaction

    /// Compacts etcd every `interval`, as kube-apiserver's etcd3/compact.go: a transaction on
    /// `compact_rev_key`'s version elects one server per round among all that share the store;
    /// it records the revision seen in the previous round and compacts to it, so about one
    /// interval of history is always kept. Nobody else compacts: etcd 3.4 does not by default.
    func startCompactor(interval: Duration) {
        let client = self.client
        let task = Task {
            var version: Int64 = 0
            var revision: Int64 = 0
            // Until close() cancels it.
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                do {
                    (version, revision) = try await Self.compact(client, version: version, revision: revision)
                } catch {
                    // Next round tries again; a failed compaction only keeps more history.
                }
            }
        }
        feed.withLock { $0.tasks.append(task) }
    }

    /// One round; returns the key's version and the revision to compact at next time.
    static func compact(_ client: EtcdClient, version: Int64, revision: Int64) async throws(EtcdError) -> (Int64, Int64) {
        let reply = try await client.txn(EtcdTxnRequest(
            compare: [EtcdCompare(key: compactRevisionKey, result: .equal, target: .version(version))],
            success: [.put(EtcdPutRequest(key: compactRevisionKey, value: Array(String(revision).utf8)))],
            failure: [.range(EtcdRangeRequest(key: compactRevisionKey))]))
        let current = reply.header.revision
        guard reply.succeeded else {
            // Another server compacted this round; follow its version.
            if case .range(let range) = reply.responses.first, let kv = range.kvs.first {
                return (kv.version, current)
            }
            return (version, current)
        }
        if revision > 0 {
            try await client.compact(EtcdCompactionRequest(revision: revision))
        }
        return (version + 1, current)
    }
}
