/// Builds protobuf messages field by field: varints, fixed-width numbers and
/// length-delimited fields, in the order they are written (callers write fields in field
/// number order, as gogo-protobuf's generated marshalers do).
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

    /// An int32 or int64 field (wire type 0). Negative numbers take ten bytes, sign-extended to
    /// 64 bits for int32 too, as Go's `uint64(int32)` conversion in generated marshalers does.
    mutating func integer(_ field: Int, _ value: Int64) {
        varint(UInt64(field << 3))
        varint(UInt64(bitPattern: value))
    }

    /// A double field (wire type 1, little-endian).
    mutating func double(_ field: Int, _ value: Double) {
        varint(UInt64(field << 3 | 1))
        let raw = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: raw >> UInt64(shift))) }
    }

    /// A float field (wire type 5, little-endian).
    mutating func float(_ field: Int, _ value: Float) {
        varint(UInt64(field << 3 | 5))
        let raw = value.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: raw >> UInt32(shift))) }
    }
}
