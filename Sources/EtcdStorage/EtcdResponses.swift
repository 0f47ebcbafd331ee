/// The etcd v3 replies swiftlet reads (`rpc.proto`, `mvcc/mvccpb/kv.proto`), only the fields it
/// uses. Unknown fields are skipped, as protobuf readers do, so newer etcd releases that add
/// fields still parse.

/// `ResponseHeader`: the store revision the request saw or made.
struct EtcdResponseHeader: Equatable {
    var revision: Int64 = 0

    init() {}

    init(_ reader: ProtoReader) throws(EtcdError) {
        var reader = reader
        while let (field, value) = try reader.next() {
            if field == 3 { revision = reader.int64(value) }
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

    init(_ reader: ProtoReader) throws(EtcdError) {
        var reader = reader
        while let (field, value) = try reader.next() {
            switch field {
            case 1: header = try EtcdResponseHeader(reader.nested(value, field: 1, "RangeResponse.header"))
            case 2: kvs.append(try EtcdKeyValue(reader.nested(value, field: 2, "RangeResponse.kvs")))
            case 3: more = reader.bool(value)
            default: break
            }
        }
    }

    init(bytes: [UInt8]) throws(EtcdError) {
        try self.init(ProtoReader(bytes, message: "RangeResponse"))
    }
}

/// `ResponseOp`: the result of one operation of a transaction (the header of a put is not read:
/// the transaction's own header has the revision).
enum EtcdResponseOp {
    case range(EtcdRangeResponse)
    /// `DeleteRangeResponse`'s `prev_kvs`.
    case deleteRange(prevKVs: [EtcdKeyValue])
    case other

    init(_ reader: ProtoReader) throws(EtcdError) {
        var reader = reader
        var result = EtcdResponseOp.other
        while let (field, value) = try reader.next() {
            switch field {
            case 1:
                result = .range(try EtcdRangeResponse(reader.nested(value, field: 1, "ResponseOp.response_range")))
            case 3:
                var fields = try reader.nested(value, field: 3, "ResponseOp.response_delete_range")
                var previous: [EtcdKeyValue] = []
                while let (innerField, innerValue) = try fields.next() {
                    if innerField == 3 {
                        previous.append(try EtcdKeyValue(fields.nested(innerValue, field: 3, "DeleteRangeResponse.prev_kvs")))
                    }
                }
                result = .deleteRange(prevKVs: previous)
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
            case 1: header = try EtcdResponseHeader(reader.nested(value, field: 1, "TxnResponse.header"))
            case 2: succeeded = reader.bool(value)
            case 3: responses.append(try EtcdResponseOp(reader.nested(value, field: 3, "TxnResponse.responses")))
            default: break
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

    init(_ reader: ProtoReader) throws(EtcdError) {
        var reader = reader
        while let (field, value) = try reader.next() {
            switch field {
            case 1: kind = reader.uint64(value) == 1 ? .delete : .put
            case 2: kv = try EtcdKeyValue(reader.nested(value, field: 2, "Event.kv"))
            case 3: prevKV = try EtcdKeyValue(reader.nested(value, field: 3, "Event.prev_kv"))
            default: break
            }
        }
    }
}

/// `WatchResponse`.
struct EtcdWatchResponse {
    var canceled = false
    /// Set with `canceled` when the watch asked for history that was compacted: the oldest
    /// revision one can still watch from.
    var compactRevision: Int64 = 0
    var cancelReason = ""
    var events: [EtcdEvent] = []

    init(bytes: [UInt8]) throws(EtcdError) {
        var reader = ProtoReader(bytes, message: "WatchResponse")
        while let (field, value) = try reader.next() {
            switch field {
            case 4: canceled = reader.bool(value)
            case 5: compactRevision = reader.int64(value)
            case 6: cancelReason = reader.string(value)
            case 11: events.append(try EtcdEvent(reader.nested(value, field: 11, "WatchResponse.events")))
            default: break
            }
        }
    }
}
