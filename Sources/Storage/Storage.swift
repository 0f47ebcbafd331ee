/// The API server's key-value store, shaped like etcd v3 as Kubernetes uses it (and as k3s'
/// kine emulates it over SQL): keys such as `/registry/pods/default/web`, opaque values, and
/// one global, monotonically increasing revision that every write bumps and that becomes the
/// objects' `resourceVersion`.
///
/// Implementations: `SQLiteStorage` (embedded, the default). An etcd backend can implement the
/// same protocol later: every operation maps to one etcd transaction or watch.
public protocol Storage: Sendable {
    /// The revision of the last committed write (0 for an empty store).
    func currentRevision() async throws -> Int64

    /// The object stored under `key`, or nil.
    func get(_ key: String) async throws -> StoredObject?

    /// Every object whose key starts with `prefix`, sorted by key, with the revision the list
    /// was read at.
    func list(prefix: String) async throws -> StorageList

    /// The objects under `prefix` as they were at `revision` (for paginated lists that must
    /// stay consistent across pages). Throws `StorageError.expired` when the history needed
    /// has been compacted away.
    func list(prefix: String, atRevision revision: Int64) async throws -> StorageList

    /// Stores a new object; throws `StorageError.alreadyExists` when the key is taken.
    func create(_ key: String, value: [UInt8]) async throws -> StoredObject

    /// Replaces an object. With `expectedRevision`, only if the stored object still has that
    /// revision (optimistic concurrency); throws `.notFound` or `.conflict`.
    func update(_ key: String, value: [UInt8], expectedRevision: Int64?) async throws -> StoredObject

    /// Removes an object, optionally only at `expectedRevision`; returns the last stored value
    /// with the revision of the deletion (as a Kubernetes DELETED watch event carries it).
    func delete(_ key: String, expectedRevision: Int64?) async throws -> StoredObject

    /// Events for keys under `prefix`.
    ///
    /// - `after: r`: every event with a revision greater than `r`, in order, then live ones;
    ///   throws `StorageError.expired` when events after `r` were compacted, and
    ///   `.revisionTooLarge` when `r` is in the future.
    /// - `after: nil`: first a synthetic `added` event for every existing object (consistent
    ///   with the revision the watch starts at), then live events.
    func watch(prefix: String, after revision: Int64?) async throws -> StorageWatch
}

/// One object as stored.
public struct StoredObject: Sendable, Equatable {
    /// The full key (`/registry/pods/default/web`).
    public let key: String
    /// The serialized object.
    public let value: [UInt8]
    /// The revision of the write that produced this value (the object's resourceVersion).
    public let revision: Int64

    public init(key: String, value: [UInt8], revision: Int64) {
        self.key = key
        self.value = value
        self.revision = revision
    }
}

/// The result of a list: objects sorted by key and the store revision they were read at.
public struct StorageList: Sendable, Equatable {
    public let objects: [StoredObject]
    /// The list's resourceVersion.
    public let revision: Int64

    public init(objects: [StoredObject], revision: Int64) {
        self.objects = objects
        self.revision = revision
    }
}

/// What happened to a key.
public enum StorageEventType: String, Sendable, Equatable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
}

/// One committed change.
public struct StorageEvent: Sendable, Equatable {
    public let type: StorageEventType
    public let key: String
    /// The new value; for a deletion, the last value before it.
    public let value: [UInt8]
    /// The value before the change (nil for `added`), so that filtered watches can tell an
    /// object that stopped matching (Kubernetes sends DELETED) from one that never did.
    public let previousValue: [UInt8]?
    /// The revision of this change.
    public let revision: Int64
    /// The revision `previousValue` was written at.
    public let previousRevision: Int64?

    public init(type: StorageEventType, key: String, value: [UInt8], previousValue: [UInt8]?, revision: Int64,
                previousRevision: Int64? = nil) {
        self.type = type
        self.key = key
        self.value = value
        self.previousValue = previousValue
        self.revision = revision
        self.previousRevision = previousRevision
    }
}

/// Errors of `Storage` operations. The API layer turns them into Kubernetes `Status` errors.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(key: String)
    case alreadyExists(key: String)
    /// The object's revision is `actual`, not the `expected` one the caller read.
    case conflict(key: String, expected: Int64, actual: Int64)
    /// Events or history after `requested` are gone; `oldest` is the oldest revision one can still
    /// watch or list from (Kubernetes prints it in `too old resource version: 5 (10)`).
    case expired(requested: Int64, oldest: Int64)
    /// `requested` is newer than the store's `current` revision.
    case revisionTooLarge(requested: Int64, current: Int64)
    /// The watcher read too slowly and events were dropped; it must resume from its last revision.
    case watcherTooSlow
    /// The store is closed.
    case closed
    /// The database failed; the message says which operation and why.
    case backend(String)

    /// A write's precondition failed (no such key, key taken, another revision): nothing was
    /// written, and writes committed with it are unaffected.
    public var isPrecondition: Bool {
        switch self {
        case .notFound, .alreadyExists, .conflict: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .notFound(let key): return "key \(key) not found"
        case .alreadyExists(let key): return "key \(key) already exists"
        case .conflict(let key, let expected, let actual):
            return "key \(key) is at revision \(actual), not the expected \(expected)"
        case .expired(let requested, let oldest): return "too old resource version: \(requested) (\(oldest))"
        case .revisionTooLarge(let requested, let current):
            return "too large resource version: \(requested), current: \(current)"
        case .watcherTooSlow: return "the watcher fell too far behind and was closed; watch again from the last revision seen"
        case .closed: return "the store is closed"
        case .backend(let message): return message
        }
    }
}

/// The smallest key greater than every key starting with `prefix` (byte order): the end of a
/// prefix range, as etcd's clientv3 `GetPrefixRangeEnd` computes it; nil when there is none
/// (an empty prefix or one of only 0xFF bytes: every key from the prefix on).
package func prefixEnd(_ prefix: String) -> [UInt8]? {
    var bytes = Array(prefix.utf8)
    while let last = bytes.last {
        if last < 0xFF {
            bytes[bytes.count - 1] = last + 1
            return bytes
        }
        bytes.removeLast()
    }
    return nil
}
