import NIOCore
import NIOHTTP1

/// The header fields of an HTTP/1 message kept as bytes, with an index of where each name and
/// value lies.
///
/// A reverse proxy copies most fields through unchanged and looks up only a handful (Host,
/// Connection, Upgrade, Content-Length, Transfer-Encoding), so it has no use for a String per name
/// and value: NIO's `HTTPHeaders` made two per field, and building, scanning and re-encoding them
/// was the largest user-space cost in profiles of the proxy under wrk (docs/benchmarks.md, issue 14).
///
/// Fields built with `add` are stored in their wire form ("name: value\r\n" each), so writing them
/// out is one copy; parsed fields point into the bytes the message came in.
struct HeaderFields: Equatable, Sendable {
    /// Offsets of one field's name and value in `bytes` (from its reader index).
    struct Field: Equatable, Sendable {
        var nameStart: Int32
        var nameLength: Int32
        var valueStart: Int32
        var valueLength: Int32
    }

    private(set) var bytes: ByteBuffer
    private(set) var fields: [Field]
    /// Whether `bytes` is exactly the fields' wire form (built by `add`), so it can be written as is.
    private(set) var isWireForm: Bool

    /// No fields yet, room for about `capacity` bytes and `count` fields (a forwarded request has
    /// the client's fields and five more: growing the index would reallocate it).
    init(capacity: Int = 256, count: Int = 8) {
        bytes = ByteBufferAllocator().buffer(capacity: capacity)
        fields = []
        fields.reserveCapacity(count)
        isWireForm = true
    }

    /// Fields found by the parser in `bytes` (a slice of the message's head).
    init(parsed bytes: ByteBuffer, fields: [Field]) {
        self.bytes = bytes
        self.fields = fields
        isWireForm = false
    }

    /// NIO's headers (HTTP/2 streams arrive as them), in order.
    init(_ headers: HTTPHeaders) {
        self.init(capacity: 64 * headers.count + 16)
        for (name, value) in headers { add(name: name, value: value) }
    }

    var count: Int { fields.count }
    var isEmpty: Bool { fields.isEmpty }

    static func == (lhs: HeaderFields, rhs: HeaderFields) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where lhs.name(at: index) != rhs.name(at: index) || lhs.value(at: index) != rhs.value(at: index) {
            return false
        }
        return true
    }

    // MARK: Reading

    func name(at index: Int) -> String {
        let field = fields[index]
        return bytes.getString(at: bytes.readerIndex + Int(field.nameStart), length: Int(field.nameLength)) ?? ""
    }

    func value(at index: Int) -> String {
        let field = fields[index]
        return bytes.getString(at: bytes.readerIndex + Int(field.valueStart), length: Int(field.valueLength)) ?? ""
    }

    /// Calls `body` with each field's name and value bytes, in order, inside one borrow of the
    /// storage (the pointers are valid only during the call).
    func forEach(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeReadableBytes { raw in
            for field in fields {
                try body(UnsafeRawBufferPointer(rebasing: raw[Int(field.nameStart)..<Int(field.nameStart + field.nameLength)]),
                         UnsafeRawBufferPointer(rebasing: raw[Int(field.valueStart)..<Int(field.valueStart + field.valueLength)]))
            }
        }
    }

    /// The value of the first field named `name` (a lowercase literal; names compare without case).
    func first(_ name: StaticString) -> String? {
        guard let index = firstIndex(name) else { return nil }
        return value(at: index)
    }

    func contains(_ name: StaticString) -> Bool { firstIndex(name) != nil }

    func firstIndex(_ name: StaticString) -> Int? {
        bytes.withUnsafeReadableBytes { raw in
            for (index, field) in fields.enumerated() where Int(field.nameLength) == name.utf8CodeUnitCount {
                let start = Int(field.nameStart)
                if Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: raw[start..<start + Int(field.nameLength)]), name) {
                    return index
                }
            }
            return nil
        }
    }

    /// Calls `body` with each item of a list-valued field's value (RFC 9110 §5.6.1: split at
    /// commas, spaces and tabs around them trimmed, empty items skipped), without allocating.
    static func forEachItem(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count, value[end] != UInt8(ascii: ",") { end += 1 }
            let item = trimmed(value[start..<end])
            if !item.isEmpty { try body(UnsafeRawBufferPointer(rebasing: item)) }
            start = end + 1
        }
    }

    /// NIO's headers, for HTTP/2 streams.
    var httpHeaders: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(count)
        for index in 0..<count { headers.add(name: name(at: index), value: value(at: index)) }
        return headers
    }

    // MARK: Building

    /// Empties built fields and keeps their storage: a loop that builds one head after another
    /// (`DataPathLoop`) reuses it instead of allocating an index and a buffer per head.
    mutating func removeAll() {
        precondition(isWireForm, "only built fields are emptied for reuse")
        bytes.clear()
        fields.removeAll(keepingCapacity: true)
    }

    mutating func add(name: String, value: String) {
        var name = name, value = value
        name.withUTF8 { name in value.withUTF8 { value in add(name: UnsafeRawBufferPointer(name), value: UnsafeRawBufferPointer(value)) } }
    }

    mutating func add(name: StaticString, value: String) {
        var value = value
        value.withUTF8 { value in
            add(name: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), value: UnsafeRawBufferPointer(value))
        }
    }

    /// Adds `name` with the value of another's field at `index`, copied as bytes.
    mutating func add(name: StaticString, valueOf index: Int, in other: HeaderFields) {
        let field = other.fields[index]
        other.bytes.withUnsafeReadableBytes { raw in
            add(name: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount),
                value: UnsafeRawBufferPointer(rebasing: raw[Int(field.valueStart)..<Int(field.valueStart + field.valueLength)]))
        }
    }

    mutating func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        precondition(isWireForm, "fields are added to built fields only")
        let start = bytes.writerIndex - bytes.readerIndex
        // One write of the whole line: each ByteBuffer write checks uniqueness and capacity and
        // goes through a generic slice of the storage, which showed in profiles at four per field.
        bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: name.count + value.count + 4) { out in
            Self.writeLine(name: name, value: value, to: out)
        }
        fields.append(Field(nameStart: Int32(start), nameLength: Int32(name.count),
                            valueStart: Int32(start + name.count + 2), valueLength: Int32(value.count)))
    }

    /// Writes the fields' wire form ("name: value\r\n" each), without the empty line that ends a head.
    func write(to buffer: inout ByteBuffer) {
        if isWireForm {
            buffer.writeImmutableBuffer(bytes)
            return
        }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wireLength) { out in
            var written = 0
            forEach { name, value in
                written += Self.writeLine(name: name, value: value,
                                          to: UnsafeMutableRawBufferPointer(rebasing: out[written...]))
            }
            return written
        }
    }

    /// "name: value\r\n" at the start of `out`, which has room for it; returns its length.
    @inline(__always)
    private static func writeLine(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
                                  to out: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = out.baseAddress else { return 0 }
        if let source = name.baseAddress { base.copyMemory(from: source, byteCount: name.count) }
        base.storeBytes(of: UInt8(ascii: ":"), toByteOffset: name.count, as: UInt8.self)
        base.storeBytes(of: UInt8(ascii: " "), toByteOffset: name.count + 1, as: UInt8.self)
        if let source = value.baseAddress { (base + name.count + 2).copyMemory(from: source, byteCount: value.count) }
        let end = name.count + 2 + value.count
        base.storeBytes(of: UInt8(ascii: "\r"), toByteOffset: end, as: UInt8.self)
        base.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: end + 1, as: UInt8.self)
        return end + 2
    }

    var wireLength: Int { isWireForm ? bytes.readableBytes : bytes.readableBytes + 4 * count }

    // MARK: Bytes

    /// ASCII case-insensitive equality with a lowercase literal.
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        bytes.count == lowercase.utf8CodeUnitCount && hasPrefixIgnoringCase(bytes, lowercase)
    }

    @inline(__always)
    static func hasPrefixIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        let count = lowercase.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        let literal = lowercase.utf8Start
        for index in 0..<count where lower(bytes[index]) != literal[index] { return false }
        return true
    }

    /// ASCII case-insensitive equality with a lowercase token.
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, token: String) -> Bool {
        var token = token
        return token.withUTF8 { token in
            guard token.count == bytes.count else { return false }
            for index in 0..<token.count where lower(bytes[index]) != token[index] { return false }
            return true
        }
    }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// The bytes without leading and trailing spaces and tabs.
    static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        return bytes[start..<end]
    }
}
