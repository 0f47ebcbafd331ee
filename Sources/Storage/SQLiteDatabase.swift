import CSQLite

/// A thin wrapper over one SQLite connection: every failure becomes a `StorageError.backend`
/// naming the step and SQLite's own message (`step(INSERT INTO log ...): database or disk is full`).
///
/// Not thread-safe: `SQLiteStorage` uses it from its own serial executor only.
final class SQLiteDatabase {
    private let handle: OpaquePointer
    let path: String
    private var statements: [String: SQLiteStatement] = [:]

    /// Opens (creating if needed) the database file at `path`.
    init(path: String) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            if let db { sqlite3_close_v2(db) }
            throw StorageError.backend("open SQLite database \(path): \(message)")
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs statements that return no rows (schema, pragmas, BEGIN/COMMIT).
    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &error)
        if code != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(error)
            throw StorageError.backend("SQLite \(path): \(sql): \(message)")
        }
    }

    /// Runs a pragma and returns its first column as text (`PRAGMA journal_mode=WAL` answers "wal").
    func pragma(_ sql: String) throws -> String? {
        let statement = try prepare(sql)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// A cached prepared statement for `sql`, reset and ready to bind.
    func prepare(_ sql: String) throws -> SQLiteStatement {
        if let cached = statements[sql] {
            return cached
        }
        var raw: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &raw, nil)
        guard code == SQLITE_OK, let raw else {
            throw StorageError.backend("SQLite \(path): prepare(\(sql)): \(errorMessage)")
        }
        let statement = SQLiteStatement(raw: raw, sql: sql, database: self)
        statements[sql] = statement
        return statement
    }

    /// Runs `body` in an IMMEDIATE transaction (the write lock taken up front), committing on
    /// success and rolling back on any error.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// SQLite's message for the last failure on this connection.
    var errorMessage: String {
        String(cString: sqlite3_errmsg(handle))
    }
}

/// One prepared statement; `SQLiteDatabase` owns and caches it.
final class SQLiteStatement {
    private let raw: OpaquePointer
    let sql: String
    private unowned let database: SQLiteDatabase

    init(raw: OpaquePointer, sql: String, database: SQLiteDatabase) {
        self.raw = raw
        self.sql = sql
        self.database = database
    }

    deinit {
        sqlite3_finalize(raw)
    }

    /// SQLite's "copy this buffer now" destructor marker (the C macro `SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds parameters ?1, ?2, ... in order.
    func bind(_ values: SQLiteValue...) throws {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
        for (offset, value) in values.enumerated() {
            let position = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null:
                code = sqlite3_bind_null(raw, position)
            case .integer(let number):
                code = sqlite3_bind_int64(raw, position, number)
            case .text(let text):
                code = sqlite3_bind_text(raw, position, text, -1, Self.transient)
            case .textBytes(let bytes):
                code = bytes.withUnsafeBufferPointer { buffer in
                    buffer.baseAddress.map { base in
                        base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                            sqlite3_bind_text(raw, position, $0, Int32(buffer.count), Self.transient)
                        }
                    } ?? sqlite3_bind_text(raw, position, "", 0, Self.transient)
                }
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { buffer in
                    // A zero-length blob still needs a non-null pointer to be a blob, not NULL.
                    sqlite3_bind_blob(raw, position, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), Self.transient)
                }
            }
            guard code == SQLITE_OK else {
                throw StorageError.backend("SQLite \(database.path): bind parameter \(position) of \(sql): \(database.errorMessage)")
            }
        }
    }

    /// Advances to the next row; false when done.
    func step() throws -> Bool {
        let code = sqlite3_step(raw)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = database.errorMessage
            sqlite3_reset(raw)
            throw StorageError.backend("SQLite \(database.path): \(sql): \(message)")
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws {
        while try step() {}
        reset()
    }

    func reset() {
        sqlite3_reset(raw)
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(raw, column) == SQLITE_NULL
    }

    func integer(_ column: Int32) -> Int64 {
        sqlite3_column_int64(raw, column)
    }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(raw, column) else { return "" }
        let count = Int(sqlite3_column_bytes(raw, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(raw, column))
        guard count > 0, let pointer = sqlite3_column_blob(raw, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// A value bound to a statement parameter.
enum SQLiteValue {
    case null
    case integer(Int64)
    case text(String)
    /// Text given as raw bytes (a key range bound that need not be valid UTF-8).
    case textBytes([UInt8])
    case blob([UInt8])
}
