import Storage
import Synchronization

/// The `Storage` protocol on an etcd v3 cluster, for servers that share one datastore (issue
/// 19, docs/etcd-ha-plan.md). Each operation is the etcd call kube-apiserver's storage makes
/// (`staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go`): writes are single-key
/// transactions that compare `mod_revision`, so one write is one revision and one event, and
/// the etcd revision is the resourceVersion.
///
/// Watches fan out of one in-memory window of recent events (`EventHistory`, the role of
/// kube-apiserver's watch cache), fed by one etcd watch over every key (`EtcdStorage+Feed`).
/// Every revision has an event there, so a client may resume from a resourceVersion another
/// server handed out. Revisions older than the window get a watch of their own in etcd.
public final class EtcdStorage: Storage, Sendable {
    /// Revisions kept in memory for watches, as SQLiteStorage keeps them.
    public static let defaultHistoryCapacity = 5_000
    /// Keys per Range reply of a list (kube-apiserver pages with the client's limit; replies of
    /// this size stay a few megabytes).
    static let listPageSize: Int64 = 10_000
    /// kube-apiserver's key for coordinating compaction between servers (etcd3/compact.go).
    static let compactRevisionKey = Array("compact_rev_key".utf8)

    let client: EtcdClient
    let history: EventHistory
    let feed: Mutex<FeedState>

    struct FeedState {
        /// The newest revision whose events the history has.
        var revision: Int64
        /// The feed and the compactor.
        var tasks: [Task<Void, Never>] = []
        var closed = false
    }

    /// Connects, reads the current revision, and starts the feed at the oldest revision the
    /// window can hold (or the oldest etcd kept), so watches from recent resourceVersions
    /// resume at once.
    public init(client: EtcdClient, historyCapacity: Int = EtcdStorage.defaultHistoryCapacity,
                compactionInterval: Duration? = .seconds(300)) async throws {
        guard historyCapacity > 0 else {
            throw StorageError.backend("etcd store: historyCapacity must be at least 1, got \(historyCapacity)")
        }
        self.client = client
        let current = try await Self.mapped { try await client.range(EtcdRangeRequest(key: Self.compactRevisionKey)) }
        let start = max(Self.compactedRevision(in: current), current.header.revision - Int64(historyCapacity), 0)
        history = EventHistory(capacity: historyCapacity, compactedRevision: start, events: [])
        feed = Mutex(FeedState(revision: start))
        startFeed()
        if let compactionInterval {
            startCompactor(interval: compactionInterval)
        }
    }

    /// Ends every watch and stops the feed and the compactor; later calls throw `.closed`.
    public func close() async {
        let tasks = feed.withLock { state in
            state.closed = true
            return state.tasks
        }
        for task in tasks { task.cancel() }
        history.finishAll()
        await client.close()
    }

    /// The newest revision the watch feed has put in the window.
    var feedRevision: Int64 {
        feed.withLock { $0.revision }
    }

    /// Watches currently connected to the window.
    public var watcherCount: Int {
        history.watcherCount
    }

    // MARK: - Storage

    public func currentRevision() async throws -> Int64 {
        try checkOpen()
        return try await Self.mapped { try await client.currentRevision() }
    }

    public func get(_ key: String) async throws -> StoredObject? {
        try checkOpen()
        let reply = try await Self.mapped { try await client.range(EtcdRangeRequest(key: Array(key.utf8))) }
        return reply.kvs.first.map { StoredObject(key: key, value: $0.value, revision: $0.modRevision) }
    }

    public func list(prefix: String) async throws -> StorageList {
        try await list(prefix: prefix, revision: 0)
    }

    public func list(prefix: String, atRevision revision: Int64) async throws -> StorageList {
        try await list(prefix: prefix, revision: max(revision, 0))
    }

    /// A prefix read in pages, every page at the revision of the first, as store.go's GetList loops.
    private func list(prefix: String, revision requested: Int64) async throws -> StorageList {
        try checkOpen()
        let range = Self.range(prefix: prefix)
        var key = range.key
        var revision = requested
        var objects: [StoredObject] = []
        while true {
            let request = EtcdRangeRequest(key: key, rangeEnd: range.end, limit: Self.listPageSize, revision: revision)
            let reply: EtcdRangeResponse
            do {
                reply = try await client.range(request)
            } catch {
                throw try await storageError(error, requestedRevision: requested)
            }
            if revision == 0 { revision = reply.header.revision }
            for kv in reply.kvs {
                objects.append(StoredObject(key: String(decoding: kv.key, as: UTF8.self), value: kv.value, revision: kv.modRevision))
            }
            guard reply.more, let last = reply.kvs.last else { break }
            key = last.key + [0]
        }
        return StorageList(objects: objects, revision: revision)
    }

    public func create(_ key: String, value: [UInt8]) async throws -> StoredObject {
        try checkOpen()
        let bytes = Array(key.utf8)
        // store.go Create: If(notFound(key)) Then(OpPut); "not found" = mod_revision 0.
        let reply = try await Self.mapped {
            try await client.txn(EtcdTxnRequest(
                compare: [EtcdCompare(key: bytes, result: .equal, target: .modRevision(0))],
                success: [.put(EtcdPutRequest(key: bytes, value: value))]))
        }
        guard reply.succeeded else { throw StorageError.alreadyExists(key: key) }
        return StoredObject(key: key, value: value, revision: reply.header.revision)
    }

    public func update(_ key: String, value: [UInt8], expectedRevision: Int64?) async throws -> StoredObject {
        let reply = try await guardedWrite(key, expectedRevision: expectedRevision,
                                           .put(EtcdPutRequest(key: Array(key.utf8), value: value)))
        return StoredObject(key: key, value: value, revision: reply.header.revision)
    }

    public func delete(_ key: String, expectedRevision: Int64?) async throws -> StoredObject {
        let reply = try await guardedWrite(key, expectedRevision: expectedRevision,
                                           .deleteRange(EtcdDeleteRangeRequest(key: Array(key.utf8))))
        guard case .deleteRange(let previous) = reply.responses.first, let last = previous.first else {
            throw StorageError.backend("etcd: the delete of \(key) succeeded without returning the deleted value")
        }
        return StoredObject(key: key, value: last.value, revision: reply.header.revision)
    }

    /// `write` if the key is at `expectedRevision` (or exists, without one), as store.go's
    /// GuaranteedUpdate and conditionalDelete do; else reads the key to say why not.
    private func guardedWrite(_ key: String, expectedRevision: Int64?, _ write: EtcdRequestOp) async throws -> EtcdTxnResponse {
        try checkOpen()
        let bytes = Array(key.utf8)
        let reply = try await Self.mapped {
            try await client.txn(EtcdTxnRequest(
                compare: [Self.guardFor(bytes, expectedRevision: expectedRevision)],
                success: [write],
                failure: [.range(EtcdRangeRequest(key: bytes))]))
        }
        guard reply.succeeded else { throw Self.failedGuard(key, expectedRevision: expectedRevision, reply: reply) }
        return reply
    }

    public func watch(prefix: String, after revision: Int64?) async throws -> StorageWatch {
        try checkOpen()
        guard let revision else {
            let current = try await list(prefix: prefix)
            let initial = current.objects.map {
                StorageEvent(type: .added, key: $0.key, value: $0.value, previousValue: nil, revision: $0.revision)
            }
            return try history.subscribe(prefix: prefix, initial: initial, after: current.revision)
        }
        if revision > feed.withLock({ $0.revision }) {
            // Newer than the feed has reached: a write just made, maybe through another server.
            // Refuse the future; the subscription skips the feed's events up to `revision`.
            let current = try await currentRevision()
            guard revision <= current else {
                throw StorageError.revisionTooLarge(requested: revision, current: current)
            }
        }
        do {
            return try history.subscribe(prefix: prefix, initial: [], after: revision)
        } catch StorageError.expired {
            // Older than the window: etcd may still have it.
            return try await dedicatedWatch(prefix: prefix, after: revision)
        }
    }

    // MARK: - Helpers

    private func checkOpen() throws {
        if feed.withLock({ $0.closed }) { throw StorageError.closed }
    }

    /// The etcd range of the keys starting with `prefix`: `[prefix, prefixEnd)`, and for an empty
    /// prefix etcd's "every key" (`\0` to `\0`; an empty key is refused as not provided).
    static func range(prefix: String) -> (key: [UInt8], end: [UInt8]) {
        prefix.isEmpty ? ([0], [0]) : (Array(prefix.utf8), prefixEnd(prefix) ?? [0])
    }

    /// `mod_revision == expected`, or "exists" (`mod_revision > 0`) without one.
    private static func guardFor(_ key: [UInt8], expectedRevision: Int64?) -> EtcdCompare {
        if let expectedRevision {
            return EtcdCompare(key: key, result: .equal, target: .modRevision(expectedRevision))
        }
        return EtcdCompare(key: key, result: .greater, target: .modRevision(0))
    }

    /// Why a guarded write did not happen, from the failure branch's read of the key.
    private static func failedGuard(_ key: String, expectedRevision: Int64?, reply: EtcdTxnResponse) -> StorageError {
        guard case .range(let range) = reply.responses.first, let current = range.kvs.first else {
            return .notFound(key: key)
        }
        return .conflict(key: key, expected: expectedRevision ?? 0, actual: current.modRevision)
    }

    /// Runs an etcd call, turning its errors into `StorageError`s.
    static func mapped<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError.backend(String(describing: error))
        }
    }

    /// etcd's errors for reads at a revision, as kube-apiserver's etcd3/errors.go reads them:
    /// compacted → expired (410 Gone), future → too large (504 in kube-apiserver).
    func storageError(_ error: EtcdError, requestedRevision: Int64) async throws -> StorageError {
        if case .status(let code, let message, _) = error, code == EtcdError.Code.outOfRange {
            if message.contains("compacted") {
                return .expired(requested: requestedRevision, oldest: try await compactedRevision())
            }
            if message.contains("future revision") {
                return .revisionTooLarge(requested: requestedRevision, current: try await currentRevision())
            }
        }
        return .backend(error.description)
    }

    /// The revision the compactor last compacted at (0 when it never ran).
    func compactedRevision() async throws -> Int64 {
        Self.compactedRevision(in: try await Self.mapped { try await client.range(EtcdRangeRequest(key: Self.compactRevisionKey)) })
    }

    /// `compact_rev_key`'s value in a read of it: the revision as decimal text (compact.go).
    static func compactedRevision(in reply: EtcdRangeResponse) -> Int64 {
        reply.kvs.first.flatMap { Int64(String(decoding: $0.value, as: UTF8.self)) } ?? 0
    }
}
