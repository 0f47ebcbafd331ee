/// The etcd v3 requests swiftlet sends, with the field numbers of etcd's
/// `etcdserver/etcdserverpb/rpc.proto` (v3.4; unchanged through v3.6 in `api/etcdserverpb`).
/// Only the fields swiftlet sets are here.

/// `RangeRequest`: a key, or the keys in `[key, rangeEnd)`.
struct EtcdRangeRequest {
    var key: [UInt8]
    var rangeEnd: [UInt8] = []
    var limit: Int64 = 0
    /// Read the store as it was at this revision (0: now).
    var revision: Int64 = 0
    var countOnly = false

    func encode(into writer: inout ProtoWriter) {
        writer.bytes(1, key)
        writer.bytes(2, rangeEnd)
        writer.int64(3, limit)
        writer.int64(4, revision)
        writer.bool(9, countOnly)
    }
}

/// `PutRequest`.
struct EtcdPutRequest {
    var key: [UInt8]
    var value: [UInt8]

    func encode(into writer: inout ProtoWriter) {
        writer.bytes(1, key)
        writer.bytes(2, value)
    }
}

/// `DeleteRangeRequest` of one key, answering its last value (`prev_kv`).
struct EtcdDeleteRangeRequest {
    var key: [UInt8]

    func encode(into writer: inout ProtoWriter) {
        writer.bytes(1, key)
        writer.bool(3, true)
    }
}

/// `Compare`: one guard of a transaction.
struct EtcdCompare {
    enum Result: Int64 { case equal = 0, greater = 1, less = 2, notEqual = 3 }
    /// What is compared; the operand goes in the matching `target_union` field.
    enum Target {
        case version(Int64)
        case modRevision(Int64)
    }

    var key: [UInt8]
    var result: Result
    var target: Target

    func encode(into writer: inout ProtoWriter) {
        // CompareTarget VERSION = 0 (field 4), MOD = 2 (field 6).
        let (code, field, operand): (Int64, Int, Int64) = switch target {
        case .version(let version): (0, 4, version)
        case .modRevision(let revision): (2, 6, revision)
        }
        writer.int64(1, result.rawValue)
        writer.int64(2, code)
        writer.bytes(3, key)
        // The operand sits in a oneof, so it is written even when zero: "mod_revision == 0"
        // (the key does not exist) must reach etcd as a set field.
        writer.forcedInt64(field, operand)
    }
}

/// `RequestOp`: one operation inside a transaction.
enum EtcdRequestOp {
    case range(EtcdRangeRequest)
    case put(EtcdPutRequest)
    case deleteRange(EtcdDeleteRangeRequest)

    func encode(into writer: inout ProtoWriter) {
        switch self {
        case .range(let request): writer.message(1) { request.encode(into: &$0) }
        case .put(let request): writer.message(2) { request.encode(into: &$0) }
        case .deleteRange(let request): writer.message(3) { request.encode(into: &$0) }
        }
    }
}

/// `TxnRequest`: if every compare holds, `success` runs, else `failure`; atomically, at one
/// revision (a txn that writes makes exactly one new revision).
struct EtcdTxnRequest {
    var compare: [EtcdCompare]
    var success: [EtcdRequestOp]
    var failure: [EtcdRequestOp] = []

    func encode(into writer: inout ProtoWriter) {
        for item in compare { writer.message(1) { item.encode(into: &$0) } }
        for item in success { writer.message(2) { item.encode(into: &$0) } }
        for item in failure { writer.message(3) { item.encode(into: &$0) } }
    }
}

/// `CompactionRequest`: drop the history below `revision`.
struct EtcdCompactionRequest {
    var revision: Int64

    func encode(into writer: inout ProtoWriter) {
        writer.int64(1, revision)
    }
}

/// `WatchRequest` with a `WatchCreateRequest`: events for `[key, rangeEnd)` from
/// `startRevision`, each with the key's previous value (`prev_kv`).
struct EtcdWatchCreateRequest {
    var key: [UInt8]
    var rangeEnd: [UInt8]
    var startRevision: Int64

    func encode(into writer: inout ProtoWriter) {
        writer.message(1) {
            $0.bytes(1, key)
            $0.bytes(2, rangeEnd)
            $0.int64(3, startRevision)
            $0.bool(6, true)
        }
    }
}

extension ProtoWriter {
    /// Encodes one request message.
    static func encode(_ build: (inout ProtoWriter) -> Void) -> [UInt8] {
        var writer = ProtoWriter()
        build(&writer)
        return writer.bytes
    }
}
