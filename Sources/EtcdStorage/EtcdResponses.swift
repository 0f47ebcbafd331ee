/// The etcd v3 replies swiftlet reads (`rpc.proto`, `mvcc/mvccpb/kv.proto`). Unknown fields are
/// skipped, as protobuf readers do, so newer etcd releases that add fields still parse.

/// `ResponseHeader`: the store revision the request saw or made.
struct EtcdResponseHeader: Equatable {
    var clusterID: UInt64 = 0
    var memberID: UInt64 = 0
    var revision: Int64 = 0
    var raftTerm: UInt64 = 0

    init() {}

    init(_ reader: ProtoReader) throws(EtcdError) {
        var reader = reader
        while let (field, value) = try reader.next() {
            switch field {
            case 1: clusterID = reader.uint64(value)
            case 2: memberID = reader.uint64(value)
            case 3: revision = reader.int64(value)
            case 4: raftTerm = reader.uint64(value)
            default: break
            }
        }
    }
}

/// `mvccpb.KeyValue`.
struct EtcdKeyValue: Equatable {
    var key: [UInt8] = []
    var createRevision: Int64 = 0
    var modRevision: Int64 = 0
    var version: Int64 = 0
    var value: [UInt8] = []

    init(key: [UInt8], createRevision: Int64, modRevision: Int64, version: Int64, value: [UInt8]) {
        self.key = key
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.value = value
    }

    init(_ reader: ProtoReader) throws(EtcdError) {
        var reader = reader
        while let (field, value) = try reader.next() {
            switch field {
            case 1: key = reader.bytes(value)
            case 2: createRevision = reader.int64(value)
            case 3: modRevision = reader.int64(value)
            case 4: version = reader.int64(value)
            case 5: self.value = reader.bytes(value)
            default: break
            }
        }
    }
}

/// `RangeResponse`.
struct EtcdRangeResponse {
    var header = EtcdResponseHeader()
    var kvs: [EtcdKeyValue] = []
    /// More keys matched than `limit` let through.
    var more = false
    var count: Int64 = 0

    init(_ reader: ProtoReader) throws(EtcdError) {
        var reader = reader
        while let (field, value) = try reader.next() {
            switch field {
            case 1: header = try EtcdResponseHeader(reader.nested(reader.range(value, field: 1), message: "RangeResponse.header"))
            case 2: kvs.append(try EtcdKeyValue(reader.nested(reader.range(value, field: 2), message: "RangeResponse.kvs")))
            case 3: more = reader.bool(value)
            case 4: count = reader.int64(value)
            default: break
            }
        }
    }

    init(bytes: [UInt8]) throws(EtcdError) {
        try self.init(ProtoReader(bytes, message: "RangeResponse"))
    }
}

/// `ResponseOp`: the result of one operation of a transaction.
enum EtcdResponseOp {
    case range(EtcdRangeResponse)
    /// `PutResponse` (header, prev_kv).
    case put(header: EtcdResponseHeader, prevKV: EtcdKeyValue?)
    /// `DeleteRangeResponse` (header, deleted, prev_kvs).
    case deleteRange(header: EtcdResponseHeader, deleted: Int64, prevKVs: [EtcdKeyValue])
    /// A kind this client never asks for (a nested txn).
    case other

    init(_ reader: ProtoReader) throws(EtcdError) {
        var reader = reader
        var result = EtcdResponseOp.other
        while let (field, value) = try reader.next() {
            let inner = try reader.nested(reader.range(value, field: field), message: "ResponseOp.\(field)")
            switch field {
            case 1:
                result = .range(try EtcdRangeResponse(inner))
            case 2:
                var fields = inner
                var header = EtcdResponseHeader(), prev: EtcdKeyValue?
                while let (innerField, innerValue) = try fields.next() {
                    if innerField == 1 { header = try EtcdResponseHeader(fields.nested(fields.range(innerValue, field: 1), message: "PutResponse.header")) }
                    if innerField == 2 { prev = try EtcdKeyValue(fields.nested(fields.range(innerValue, field: 2), message: "PutResponse.prev_kv")) }
                }
                result = .put(header: header, prevKV: prev)
            case 3:
                var fields = inner
                var header = EtcdResponseHeader(), deleted: Int64 = 0, prevs: [EtcdKeyValue] = []
                while let (innerField, innerValue) = try fields.next() {
                    switch innerField {
                    case 1: header = try EtcdResponseHeader(fields.nested(fields.range(innerValue, field: 1), message: "DeleteRangeResponse.header"))
                    case 2: deleted = fields.int64(innerValue)
                    case 3: prevs.append(try EtcdKeyValue(fields.nested(fields.range(innerValue, field: 3), message: "DeleteRangeResponse.prev_kvs")))
                    default: break
                    }
                }
                result = .deleteRange(header: header, deleted: deleted, prevKVs: prevs)
            default:
                break
            }
        }
        self = result
    }
}

/// `TxnResponse`.
struct EtcdTxnResponse {
    var header = EtcdResponseHeader()
    /// Whether the compares held (so `success` ran).
    var succeeded = false
    var responses: [EtcdResponseOp] = []

    init(bytes: [UInt8]) throws(EtcdError) {
        var reader = ProtoReader(bytes, message: "TxnResponse")
        while let (field, value) = try reader.next() {
            switch field {
            case 1: header = try EtcdResponseHeader(reader.nested(reader.range(value, field: 1), message: "TxnResponse.header"))
            case 2: succeeded = reader.bool(value)
            case 3: responses.append(try EtcdResponseOp(reader.nested(reader.range(value, field: 3), message: "TxnResponse.responses")))
            default: break
            }
        }
    }
}

/// Replies that carry only a header (`CompactionResponse`, `PutResponse` on its own).
struct EtcdHeaderOnlyResponse {
    var header = EtcdResponseHeader()

    init(bytes: [UInt8], message: String) throws(EtcdError) {
        var reader = ProtoReader(bytes, message: message)
        while let (field, value) = try reader.next() {
            if field == 1 {
                header = try EtcdResponseHeader(reader.nested(reader.range(value, field: 1), message: "\(message).header"))
            }
        }
    }
}

/// `mvccpb.Event`.
struct EtcdEvent: Equatable {
    enum Kind: Equatable { case put, delete }
    var kind: Kind = .put
    var kv = EtcdKeyValue(key: [], createRevision: 0, modRevision: 0, version: 0, value: [])
    /// The key's value before the event, when the watch asked for `prev_kv` and etcd still had it.
    var prevKV: EtcdKeyValue?

    init(kind: Kind, kv: EtcdKeyValue, prevKV: EtcdKeyValue?) {
        self.kind = kind
        self.kv = kv
        self.prevKV = prevKV
    }

    init(_ reader: ProtoReader) throws(EtcdError) {
        var reader = reader
        while let (field, value) = try reader.next() {
            switch field {
            case 1: kind = reader.uint64(value) == 1 ? .delete : .put
            case 2: kv = try EtcdKeyValue(reader.nested(reader.range(value, field: 2), message: "Event.kv"))
            case 3: prevKV = try EtcdKeyValue(reader.nested(reader.range(value, field: 3), message: "Event.prev_kv"))
            default: break
            }
        }
    }
}

/// `WatchResponse`.
struct EtcdWatchResponse {
    var header = EtcdResponseHeader()
    var watchID: Int64 = 0
    var created = false
    var canceled = false
    /// Set with `canceled` when the watch asked for history that was compacted: the oldest
    /// revision one can still watch from is this plus one.
    var compactRevision: Int64 = 0
    var cancelReason = ""
    /// A large reply split over several messages; only set when the watch asked for it.
    var fragment = false
    var events: [EtcdEvent] = []

    init(bytes: [UInt8]) throws(EtcdError) {
        var reader = ProtoReader(bytes, message: "WatchResponse")
        while let (field, value) = try reader.next() {
            switch field {
            case 1: header = try EtcdResponseHeader(reader.nested(reader.range(value, field: 1), message: "WatchResponse.header"))
            case 2: watchID = reader.int64(value)
            case 3: created = reader.bool(value)
            case 4: canceled = reader.bool(value)
            case 5: compactRevision = reader.int64(value)
            case 6: cancelReason = reader.string(value)
            case 7: fragment = reader.bool(value)
            case 11: events.append(try EtcdEvent(reader.nested(reader.range(value, field: 11), message: "WatchResponse.events")))
            default: break
            }
        }
    }
}

/// `StatusResponse` of the Maintenance service: which member leads (tests kill the leader).
struct EtcdStatusResponse {
    var header = EtcdResponseHeader()
    var version = ""
    var leader: UInt64 = 0

    init(bytes: [UInt8]) throws(EtcdError) {
        var reader = ProtoReader(bytes, message: "StatusResponse")
        while let (field, value) = try reader.next() {
            switch field {
            case 1: header = try EtcdResponseHeader(reader.nested(reader.range(value, field: 1), message: "StatusResponse.header"))
            case 2: version = reader.string(value)
            case 4: leader = reader.uint64(value)
            default: break
            }
        }
    }
}
