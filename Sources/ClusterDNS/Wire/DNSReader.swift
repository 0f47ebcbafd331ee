/// Bounds-checked reading of a DNS message (RFC 1035 §4.1). Every read checks the message
/// length; names follow compression pointers only backwards, each jump to a position before
/// the previous one, so a hostile message cannot loop or make us read outside it.
struct DNSReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws(DNSWireError) -> UInt8 {
        guard offset < bytes.count else { throw DNSWireError(.truncated, at: offset, "message ends inside a field") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSWireError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw DNSWireError(.truncated, at: offset, "message ends inside a field") }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(DNSWireError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw DNSWireError(.truncated, at: offset, "message ends inside a field") }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    mutating func bytes(_ count: Int) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else {
            throw DNSWireError(.truncated, at: offset, "message ends inside a field of \(count) octets")
        }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func skip(_ count: Int) throws(DNSWireError) {
        guard count >= 0, offset + count <= bytes.count else {
            throw DNSWireError(.truncated, at: offset, "message ends inside a field of \(count) octets")
        }
        offset += count
    }

    /// Decodes the name at the current offset into `scratch` (original case, lowercased copy,
    /// label starts, hash) and moves past it.
    mutating func name(into scratch: NameScratch) throws(DNSWireError) {
        scratch.reset()
        var position = offset
        // Every pointer must jump before `lowest`: the start of the label run being read.
        var lowest = offset
        var jumped = false
        var out = 0
        var hash = NameHash.seed
        while true {
            guard position < bytes.count else {
                throw DNSWireError(.truncated, at: position, "message ends inside a name")
            }
            let length = Int(bytes[position])
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    guard out + 1 <= DNSWire.maxNameLength else {
                        throw DNSWireError(.nameTooLong, at: position, "name longer than 255 octets")
                    }
                    scratch.original[out] = 0
                    scratch.lower[out] = 0
                    hash = NameHash.add(hash, 0)
                    out += 1
                    if !jumped { offset = position + 1 }
                    scratch.length = out
                    scratch.hash = hash
                    return
                }
                guard position + 1 + length <= bytes.count else {
                    throw DNSWireError(.truncated, at: position, "message ends inside a label")
                }
                // The label, its length octet and the root label still to come must fit.
                guard out + 1 + length + 1 <= DNSWire.maxNameLength else {
                    throw DNSWireError(.nameTooLong, at: position, "name longer than 255 octets")
                }
                scratch.labelStarts[scratch.labelCount] = UInt8(out)
                scratch.labelCount += 1
                scratch.original[out] = UInt8(length)
                scratch.lower[out] = UInt8(length)
                hash = NameHash.add(hash, UInt8(length))
                out += 1
                for k in 1...length {
                    let byte = bytes[position + k]
                    let lowered = asciiLower(byte)
                    scratch.original[out] = byte
                    scratch.lower[out] = lowered
                    hash = NameHash.add(hash, lowered)
                    out += 1
                }
                position += 1 + length
            case 0xC0:
                guard position + 1 < bytes.count else {
                    throw DNSWireError(.truncated, at: position, "message ends inside a compression pointer")
                }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < lowest else {
                    throw DNSWireError(target >= position ? .forwardPointer : .pointerLoop, at: position,
                                       "compression pointer to \(target) does not point before the name it continues")
                }
                guard target >= DNSWire.headerLength else {
                    throw DNSWireError(.badLabelType, at: position, "compression pointer into the header (\(target))")
                }
                if !jumped {
                    offset = position + 2
                    jumped = true
                }
                lowest = target
                position = target
            default:
                throw DNSWireError(.badLabelType, at: position,
                                   "unsupported label type 0x\(String(length & 0xC0, radix: 16)) (extended labels are obsolete)")
            }
        }
    }

    /// Decodes the name at the current offset as a value (allocates).
    mutating func name(using scratch: NameScratch) throws(DNSWireError) -> DNSName {
        try name(into: scratch)
        return scratch.makeName()
    }
}
