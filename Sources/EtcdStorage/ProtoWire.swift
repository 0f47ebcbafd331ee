/// The protobuf wire format, as much of it as etcd's v3 messages use: varints (int64, uint64,
/// bool, enums) and length-delimited fields (bytes, strings, embedded messages).
/// https://protobuf.dev/programming-guides/encoding/
///
/// Hand-written rather than generated: the dozen etcd messages swiftlet sends and reads do not
/// justify swift-protobuf and its code generator in every clean build (docs/etcd-ha-plan.md §2).
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private mutating func tag(_ field: Int, _ wireType: UInt64) {
        varint(UInt64(field) << 3 | wireType)
    }

    /// An int64 field; proto3 leaves zero out. Negative numbers take ten bytes, as in Go.
    mutating func int64(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    /// A bool field; false is left out.
    mutating func bool(_ field: Int, _ value: Bool) {
        guard value else { return }
        tag(field, 0)
        varint(1)
    }

    /// A bytes or string field; empty is left out.
    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        tag(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// An int64 member of a `oneof`: written even when zero, because there being set is the
    /// information.
    mutating func forcedInt64(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    /// An embedded message, written even when empty: inside a `oneof` its presence is the
    /// information (an empty `RangeRequest` in a `RequestOp` still means "range").
    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        tag(field, 2)
        varint(UInt64(inner.bytes.count))
        bytes.append(contentsOf: inner.bytes)
    }
}

/// Reads the fields of one message from a byte range, checking every length against it, so a
/// truncated or hostile reply is an error naming the offset, never a crash.
struct ProtoReader {
    enum Value {
        case varint(UInt64)
        case bytes(Range<Int>)
        /// fixed32/fixed64 fields: none in etcd's messages, skipped.
        case fixed
    }

    let buffer: [UInt8]
    private var index: Int
    private let end: Int
    /// What the message is, for errors.
    let message: String

    init(_ buffer: [UInt8], message: String) {
        self.init(buffer, range: 0..<buffer.count, message: message)
    }

    init(_ buffer: [UInt8], range: Range<Int>, message: String) {
        self.buffer = buffer
        self.index = range.lowerBound
        self.end = range.upperBound
        self.message = message
    }

    /// A reader for the embedded message in `value` (field `field`), named `message` in errors.
    func nested(_ value: Value, field: Int, _ message: String) throws(EtcdError) -> ProtoReader {
        guard case .bytes(let range) = value else { throw malformed("field \(field) is not a message") }
        return ProtoReader(buffer, range: range, message: message)
    }

    /// The next field, or nil at the end of the message.
    mutating func next() throws(EtcdError) -> (field: Int, value: Value)? {
        guard index < end else { return nil }
        let tag = try readVarint()
        let field = Int(truncatingIfNeeded: tag >> 3)
        guard field > 0 else { throw malformed("field number 0") }
        switch tag & 7 {
        case 0:
            return (field, .varint(try readVarint()))
        case 1, 5:
            let width = tag & 7 == 1 ? 8 : 4
            guard end - index >= width else { throw malformed("truncated fixed-width field \(field)") }
            index += width
            return (field, .fixed)
        case 2:
            let length = try readVarint()
            guard length <= UInt64(end - index) else {
                throw malformed("field \(field) claims \(length) bytes, \(end - index) remain")
            }
            let start = index
            index += Int(length)
            return (field, .bytes(start..<index))
        default:
            throw malformed("unsupported wire type \(tag & 7) for field \(field)")
        }
    }

    func int64(_ value: Value) -> Int64 {
        if case .varint(let raw) = value { return Int64(bitPattern: raw) }
        return 0
    }

    func uint64(_ value: Value) -> UInt64 {
        if case .varint(let raw) = value { return raw }
        return 0
    }

    func bool(_ value: Value) -> Bool {
        uint64(value) != 0
    }

    func bytes(_ value: Value) -> [UInt8] {
        if case .bytes(let range) = value { return Array(buffer[range]) }
        return []
    }

    func string(_ value: Value) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    private mutating func readVarint() throws(EtcdError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < end else { throw malformed("truncated varint") }
            let byte = buffer[index]
            index += 1
            guard shift < 64 else { throw malformed("varint longer than ten bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private func malformed(_ problem: String) -> EtcdError {
        .malformedResponse("\(message) at byte \(index): \(problem)")
    }
}
