
/// Builds protobuf messages field by field (length-delimited fields only, plus varints):
/// enough for the small documents the server sends in protobuf, such as OpenAPI v2.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
    }

    /// A string field (wire type 2).
    mutating func string(_ field: Int, _ text: String) {
        message(field, Array(text.utf8))
    }

    /// An embedded message or raw bytes field (wire type 2).
    mutating func message(_ field: Int, _ content: [UInt8]) {
        varint(UInt64(field << 3 | 2))
        varint(UInt64(content.count))
        bytes.append(contentsOf: content)
    }

    /// An embedded message built by `build`.
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        message(field, inner.bytes)
    }

    /// A bool field (wire type 0).
    mutating func bool(_ field: Int, _ value: Bool) {
        varint(UInt64(field << 3))
        varint(value ? 1 : 0)
    }
}
