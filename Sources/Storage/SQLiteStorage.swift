import CSQLite

/// The embedded store: one SQLite database in WAL mode with `synchronous=FULL`, so a write is
/// on disk when its call returns and survives `kill -9` or a power cut. Writes that arrive
/// together are committed together (group commit, see `pending`).
///
/// Two tables, written in the same transaction:
/// - `objects(key, revision, value)`: the current state, what get and list read;
/// - `log(revision, type, key, value, previous_value, previous_revision)`: one row per write,
///   kept for the last `historyCapacity` revisions, from which the in-memory `EventHistory`
///   is rebuilt on open, so watches resume across a restart with no gap.
///
/// The actor runs on its own thread (`StorageExecutor`): commits block in fsync and must not
/// hold up Swift's cooperative threads.
public actor SQLiteStorage: Storage {
    /// Revisions of history kept by default: about a minute of a busy small cluster.
    public static let defaultHistoryCapacity = 5_000
    /// The schema this code reads and writes.
    static let schemaVersion: Int64 = 1

    private let executor: StorageExecutor
    private var database: SQLiteDatabase?
    private var revision: Int64
    /// Log rows at or below this revision have been deleted.
    private var logCompactedRevision: Int64
    private let history: EventHistory
    /// The database file.
    public nonisolated let path: String

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Opens (or creates) the store in the SQLite file at `path`, replaying the retained log
    /// into the event history.
    public init(path: String, historyCapacity: Int = SQLiteStorage.defaultHistoryCapacity) throws {
        guard historyCapacity > 0 else {
            throw StorageError.backend("open store \(path): historyCapacity must be at least 1, got \(historyCapacity)")
        }
        let database = try SQLiteDatabase(path: path)
        try Self.configure(database)
        let current = try Self.maximumRevision(database)
        let compacted = try Self.metaValue(database, name: "log_compacted") ?? 0
        let events = try Self.loadEvents(database, after: max(compacted, current - Int64(historyCapacity)))
        self.executor = StorageExecutor(label: "swiftlet.storage")
        self.database = database
        self.path = path
        self.revision = current
        self.logCompactedRevision = compacted
        self.history = EventHistory(capacity: historyCapacity,
                                    compactedRevision: (events.first?.revision).map { $0 - 1 } ?? current,
                                    events: events)
    }

    /// Ends all watches and closes the database. Later calls throw `StorageError.closed`.
    public func close() {
        history.finishAll()
        database = nil
    }

    /// Watches currently connected.
    public nonisolated var watcherCount: Int {
        history.watcherCount
    }

    // MARK: - Storage

    public func currentRevision() throws -> Int64 {
        _ = try open()
        return revision
    }

    public func get(_ key: String) throws -> StoredObject? {
        let statement = try open().prepare("SELECT revision, value FROM objects WHERE key = ?1")
        defer { statement.reset() }
        try statement.bind(.text(key))
        guard try statement.step() else { return nil }
        return StoredObject(key: key, value: statement.blob(1), revision: statement.integer(0))
    }

    public func list(prefix: String) throws -> StorageList {
        let statement = try open().prepare("SELECT key, revision, value FROM objects WHERE key >= ?1 AND key < ?2 ORDER BY key")
        defer { statement.reset() }
        try statement.bind(.text(prefix), .textBytes(prefixEnd(prefix) ?? [0xFF]))
        var objects: [StoredObject] = []
        while try statement.step() {
            objects.append(StoredObject(key: statement.text(0), value: statement.blob(2), revision: statement.integer(1)))
        }
        return StorageList(objects: objects, revision: revision)
    }

    public func list(prefix: String, atRevision requested: Int64) throws -> StorageList {
        let current = try list(prefix: prefix)
        if requested == revision { return current }
        guard requested < revision else {
            throw StorageError.revisionTooLarge(requested: requested, current: revision)
        }
        // Undo the newer events, newest first, on top of the current state.
        var objects = Dictionary(uniqueKeysWithValues: current.objects.map { ($0.key, $0) })
        for event in try history.events(after: requested, prefix: prefix).reversed() {
            switch event.type {
            case .added:
                objects[event.key] = nil
            case .modified, .deleted:
                if let previous = event.previousValue, let previousRevision = event.previousRevision {
                    objects[event.key] = StoredObject(key: event.key, value: previous, revision: previousRevision)
                }
            }
        }
        return StorageList(objects: objects.values.sorted { $0.key < $1.key }, revision: requested)
    }

    public func create(_ key: String, value: [UInt8]) async throws -> StoredObject {
        try await write(.create(key: key, value: value))
    }

    public func update(_ key: String, value: [UInt8], expectedRevision: Int64?) async throws -> StoredObject {
        try await write(.update(key: key, value: value, expectedRevision: expectedRevision))
    }

    public func delete(_ key: String, expectedRevision: Int64?) async throws -> StoredObject {
        try await write(.delete(key: key, expectedRevision: expectedRevision))
    }

    public func watch(prefix: String, after requested: Int64?) throws -> StorageWatch {
        _ = try open()
        guard let requested else {
            let current = try list(prefix: prefix)
            let initial = current.objects.map {
                StorageEvent(type: .added, key: $0.key, value: $0.value, previousValue: nil, revision: $0.revision)
            }
            return try history.subscribe(prefix: prefix, initial: initial, after: current.revision)
        }
        guard requested <= revision else {
            throw StorageError.revisionTooLarge(requested: requested, current: revision)
        }
        return try history.subscribe(prefix: prefix, initial: [], after: requested)
    }

    // MARK: - Writing

    /// One write waiting for the next commit.
    enum WriteOperation {
        case create(key: String, value: [UInt8])
        case update(key: String, value: [UInt8], expectedRevision: Int64?)
        case delete(key: String, expectedRevision: Int64?)
    }

    private struct PendingWrite {
        let operation: WriteOperation
        let continuation: CheckedContinuation<StoredObject, any Error>
    }

    /// Group commit: writes that arrive while a commit waits for its fsync are committed
    /// together, in one transaction and one fsync, in the order they arrived, each with its own
    /// revision. Each write's preconditions (exists, revision) are checked in order inside the
    /// transaction, so one that fails fails alone and sees the writes before it. The first write
    /// of a batch schedules the commit as a job behind the actor's queue, so every write
    /// already queued joins it. One commit per write took the store to about 1,000 fsyncs for
    /// 100 pods starting, each a journal flush of milliseconds on a small disk, with the whole
    /// cluster's writes queued behind them; etcd batches its WAL writes the same way.
    private var pending: [PendingWrite] = []

    private func write(_ operation: WriteOperation) async throws -> StoredObject {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(PendingWrite(operation: operation, continuation: continuation))
            if pending.count == 1 {
                // Runs on this actor after the jobs queued before it: the batch's other writes.
                Task { await self.commitPending() }
            }
        }
    }

    private func commitPending() {
        let batch = pending
        pending = []
        guard !batch.isEmpty else { return }
        guard let database else {
            for write in batch { write.continuation.resume(throwing: StorageError.closed) }
            return
        }
        var outcomes: [Result<StorageEvent, StorageError>] = []
        outcomes.reserveCapacity(batch.count)
        do {
            try database.transaction {
                var next = revision
                for write in batch {
                    do {
                        let event = try apply(write.operation, revision: next + 1, in: database)
                        outcomes.append(.success(event))
                        next += 1
                    } catch let error as StorageError where error.isPrecondition {
                        // Checked before the write touched anything: this one fails alone.
                        outcomes.append(.failure(error))
                    }
                }
            }
        } catch {
            // The transaction rolled back: nothing of the batch was stored.
            for write in batch { write.continuation.resume(throwing: error) }
            return
        }
        for (write, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .success(let event):
                commit(event)
                write.continuation.resume(returning: StoredObject(key: event.key, value: event.value, revision: event.revision))
            case .failure(let error):
                write.continuation.resume(throwing: error)
            }
        }
    }

    /// One write inside the batch's transaction, as revision `next`: its event.
    private func apply(_ operation: WriteOperation, revision next: Int64, in database: SQLiteDatabase) throws -> StorageEvent {
        switch operation {
        case .create(let key, let value):
            if try currentRow(key, in: database) != nil {
                throw StorageError.alreadyExists(key: key)
            }
            let insert = try database.prepare("INSERT INTO objects (key, revision, value) VALUES (?1, ?2, ?3)")
            try insert.bind(.text(key), .integer(next), .blob(value))
            try insert.run()
            try appendLog(.added, key: key, value: value, previous: nil, revision: next, in: database)
            return StorageEvent(type: .added, key: key, value: value, previousValue: nil, revision: next)
        case .update(let key, let value, let expectedRevision):
            let previous = try checkedRow(key, expectedRevision: expectedRevision, in: database)
            let update = try database.prepare("UPDATE objects SET revision = ?2, value = ?3 WHERE key = ?1")
            try update.bind(.text(key), .integer(next), .blob(value))
            try update.run()
            try appendLog(.modified, key: key, value: value, previous: previous, revision: next, in: database)
            return StorageEvent(type: .modified, key: key, value: value, previousValue: previous.value,
                                revision: next, previousRevision: previous.revision)
        case .delete(let key, let expectedRevision):
            let previous = try checkedRow(key, expectedRevision: expectedRevision, in: database)
            let delete = try database.prepare("DELETE FROM objects WHERE key = ?1")
            try delete.bind(.text(key))
            try delete.run()
            try appendLog(.deleted, key: key, value: previous.value, previous: previous, revision: next, in: database)
            return StorageEvent(type: .deleted, key: key, value: previous.value, previousValue: previous.value,
                                revision: next, previousRevision: previous.revision)
        }
    }

    private func open() throws -> SQLiteDatabase {
        guard let database else { throw StorageError.closed }
        return database
    }

    private func currentRow(_ key: String, in database: SQLiteDatabase) throws -> StoredObject? {
        let select = try database.prepare("SELECT revision, value FROM objects WHERE key = ?1")
        defer { select.reset() }
        try select.bind(.text(key))
        guard try select.step() else { return nil }
        return StoredObject(key: key, value: select.blob(1), revision: select.integer(0))
    }

    private func checkedRow(_ key: String, expectedRevision: Int64?, in database: SQLiteDatabase) throws -> StoredObject {
        guard let current = try currentRow(key, in: database) else {
            throw StorageError.notFound(key: key)
        }
        if let expectedRevision, expectedRevision != current.revision {
            throw StorageError.conflict(key: key, expected: expectedRevision, actual: current.revision)
        }
        return current
    }

    private func appendLog(_ type: StorageEventType, key: String, value: [UInt8], previous: StoredObject?,
                           revision next: Int64, in database: SQLiteDatabase) throws {
        let insert = try database.prepare("""
            INSERT INTO log (revision, type, key, value, previous_value, previous_revision)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """)
        try insert.bind(.integer(next), .integer(Self.code(type)), .text(key), .blob(value),
                        previous.map { .blob($0.value) } ?? .null,
                        previous.map { .integer($0.revision) } ?? .null)
        try insert.run()
        // Trim the log in batches, keeping at least the history window.
        let keepAfter = next - Int64(history.capacity)
        if keepAfter - logCompactedRevision >= Int64(max(1, history.capacity / 4)) {
            let trim = try database.prepare("DELETE FROM log WHERE revision <= ?1")
            try trim.bind(.integer(keepAfter))
            try trim.run()
            try Self.setMetaValue(database, name: "log_compacted", value: keepAfter)
        }
    }

    /// After a successful commit: the new revision becomes visible and watchers hear of it.
    private func commit(_ event: StorageEvent) {
        revision = event.revision
        let keepAfter = event.revision - Int64(history.capacity)
        if keepAfter - logCompactedRevision >= Int64(max(1, history.capacity / 4)) {
            logCompactedRevision = keepAfter
        }
        history.append(event)
    }

    // MARK: - Schema

    private static func configure(_ database: SQLiteDatabase) throws {
        let mode = try database.pragma("PRAGMA journal_mode=WAL")
        guard mode?.lowercased() == "wal" else {
            throw StorageError.backend("SQLite \(database.path): cannot switch to WAL journal mode (got \(mode ?? "nothing")); is the file on a filesystem without shared memory support?")
        }
        try database.execute("PRAGMA synchronous=FULL")
        try database.execute("PRAGMA busy_timeout=5000")
        try database.execute("""
            CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, revision INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS log (revision INTEGER PRIMARY KEY, type INTEGER NOT NULL, key TEXT NOT NULL,
                value BLOB NOT NULL, previous_value BLOB, previous_revision INTEGER);
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            """)
        if let version = try metaValue(database, name: "schema_version") {
            guard version == schemaVersion else {
                throw StorageError.backend("SQLite \(database.path): store schema version \(version) is not the supported \(schemaVersion); use a matching swiftlet release")
            }
        } else {
            try setMetaValue(database, name: "schema_version", value: schemaVersion)
        }
    }

    private static func maximumRevision(_ database: SQLiteDatabase) throws -> Int64 {
        let select = try database.prepare("SELECT max(revision) FROM log")
        defer { select.reset() }
        try select.bind()
        guard try select.step(), !select.isNull(0) else {
            return try metaValue(database, name: "log_compacted") ?? 0
        }
        return select.integer(0)
    }

    private static func loadEvents(_ database: SQLiteDatabase, after revision: Int64) throws -> [StorageEvent] {
        let select = try database.prepare("""
            SELECT revision, type, key, value, previous_value, previous_revision FROM log WHERE revision > ?1 ORDER BY revision
            """)
        defer { select.reset() }
        try select.bind(.integer(revision))
        var events: [StorageEvent] = []
        while try select.step() {
            let type = try eventType(select.integer(1), database: database)
            events.append(StorageEvent(type: type, key: select.text(2), value: select.blob(3),
                                       previousValue: select.isNull(4) ? nil : select.blob(4),
                                       revision: select.integer(0),
                                       previousRevision: select.isNull(5) ? nil : select.integer(5)))
        }
        return events
    }

    private static func metaValue(_ database: SQLiteDatabase, name: String) throws -> Int64? {
        let select = try database.prepare("SELECT value FROM meta WHERE name = ?1")
        defer { select.reset() }
        try select.bind(.text(name))
        return try select.step() ? select.integer(0) : nil
    }

    private static func setMetaValue(_ database: SQLiteDatabase, name: String, value: Int64) throws {
        let upsert = try database.prepare("INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value")
        try upsert.bind(.text(name), .integer(value))
        try upsert.run()
    }

    private static func code(_ type: StorageEventType) -> Int64 {
        switch type {
        case .added: return 1
        case .modified: return 2
        case .deleted: return 3
        }
    }

    private static func eventType(_ code: Int64, database: SQLiteDatabase) throws -> StorageEventType {
        switch code {
        case 1: return .added
        case 2: return .modified
        case 3: return .deleted
        default: throw StorageError.backend("SQLite \(database.path): log row with unknown event type \(code)")
        }
    }
}
