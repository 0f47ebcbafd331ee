/// The etcd v3 requests swiftlet sends, with the field numbers of etcd's
/// `etcdserver/etcdserverpb/rpc.proto` (v3.4; unchanged through v3.6 in `api/etcdserverpb`).

/// `RangeRequest`: a key, or the keys in `[key, rangeEnd)`.
struct EtcdRangeRequest {
    var key: [UInt8]
    var rangeEnd: [UInt8] = []
    var limit: Int64 = 0
    /// Read the store as it was at this revision (0: now).
    var revision: Int64 = 0
    var serializable = false
    var keysOnly = false
    var countOnly = false

    func encode(into writer: inout ProtoWriter) {
        writer.bytes(1, key)
        writer.bytes(2, rangeEnd)
        writer.int64(3, limit)
        writer.int64(4, revision)
        writer.bool(7, serializable)
        writer.bool(8, keysOnly)
        writer.bool(9, countOnly)
    }
}

/// `PutRequest`.
struct EtcdPutRequest {
    var key: [UInt8]
    var value: [UInt8]
    var prevKV = false

    func encode(into writer: inout ProtoWriter) {
        writer.bytes(1, key)
        writer.bytes(2, value)
        writer.bool(4, prevKV)
    }
}

/// `DeleteRangeRequest`.
struct EtcdDeleteRangeRequest {
    var key: [UInt8]
    var rangeEnd: [UInt8] = []
    var prevKV = false

    func encode(into writer: inout ProtoWriter) {
        writer.bytes(1, key)
        writer.bytes(2, rangeEnd)
        writer.bool(3, prevKV)
    }
}

/// `Compare`: one guard of a transaction.
struct EtcdCompare {
    enum Result: Int64 { case equal = 0, greater = 1, less = 2, notEqual = 3 }
    /// What is compared; the operand goes in the matching `target_union` field.
    enum Target {
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        case value([UInt8])
    }

    var key: [UInt8]
    var result: Result
    var target: Target

    func encode(into writer: inout ProtoWriter) {
        writer.int64(1, result.rawValue)
        // The operand sits in a oneof, so it is written even when zero: "mod_revision == 0"
        // (the key does not exist) must reach etcd as a set field. Zero enum values are the
        // proto3 default and need no bytes.
        switch target {
        case .version(let version):
            writer.int64(2, 0)
            writer.bytes(3, key)
            writer.forcedInt64(4, version)
        case .createRevision(let revision):
            writer.int64(2, 1)
            writer.bytes(3, key)
            writer.forcedInt64(5, revision)
        case .modRevision(let revision):
            writer.int64(2, 2)
            writer.bytes(3, key)
            writer.forcedInt64(6, revision)
        case .value(let value):
            writer.int64(2, 3)
            writer.bytes(3, key)
            writer.forcedBytes(7, value)
        }
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

/// `CompactionRequest`: drop the history at and below `revision`.
struct EtcdCompactionRequest {
    var revision: Int64
    /// Wait until the compaction is applied to the backend.
    var physical = false

    func encode(into writer: inout ProtoWriter) {
        writer.int64(1, revision)
        writer.bool(2, physical)
    }
}

/// `WatchRequest`: create or cancel one watch on a `Watch` stream.
enum EtcdWatchRequest {
    /// `WatchCreateRequest`: events for `[key, rangeEnd)` from `startRevision` (0: from now).
    case create(key: [UInt8], rangeEnd: [UInt8], startRevision: Int64, prevKV: Bool)
    /// `WatchCancelRequest`.
    case cancel(watchID: Int64)

    func encode(into writer: inout ProtoWriter) {
        switch self {
        case .create(let key, let rangeEnd, let startRevision, let prevKV):
            writer.message(1) {
                $0.bytes(1, key)
                $0.bytes(2, rangeEnd)
                $0.int64(3, startRevision)
                $0.bool(6, prevKV)
            }
        case .cancel(let watchID):
            writer.message(2) { $0.int64(1, watchID) }
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
