/// A domain name in wire format (length-prefixed labels ending with the root label), keeping
/// the case it was written in. Comparison and hashing ignore ASCII case, as DNS does
/// (RFC 4343); `key` is the lowercased wire form used to index records.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// Wire bytes, original case, root label included.
    public let wire: [UInt8]

    /// The root name ".".
    public static let root = DNSName(validatedWire: [0])

    init(validatedWire: [UInt8]) { self.wire = validatedWire }

    /// Parses a name in presentation format ("web.default.svc.cluster.local", trailing dot
    /// optional; `\.` and `\DDD` escapes as in RFC 1035 §5.1). Throws for empty labels, labels
    /// over 63 octets and names over 255.
    public init(_ text: String) throws {
        if text == "." || text.isEmpty {
            self = .root
            return
        }
        var wire: [UInt8] = []
        var label: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        func finishLabel(at position: Int) throws {
            guard !label.isEmpty else {
                throw DNSWireError(.invalidName, at: position, "empty label in name \"\(text)\"")
            }
            guard label.count <= DNSWire.maxLabelLength else {
                throw DNSWireError(.labelTooLong, at: position, "label of \(label.count) octets in \"\(text)\" (at most 63)")
            }
            wire.append(UInt8(label.count))
            wire.append(contentsOf: label)
            label.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: ".") {
                try finishLabel(at: i)
                i += 1
                continue
            }
            if c == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else {
                    throw DNSWireError(.invalidName, at: i, "dangling escape in \"\(text)\"")
                }
                let next = bytes[i + 1]
                if next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9") {
                    guard i + 3 < bytes.count, let value = Self.decimalEscape(bytes[(i + 1)...(i + 3)]) else {
                        throw DNSWireError(.invalidName, at: i, "bad \\DDD escape in \"\(text)\"")
                    }
                    label.append(value)
                    i += 4
                } else {
                    label.append(next)
                    i += 2
                }
                continue
            }
            label.append(c)
            i += 1
        }
        if !label.isEmpty { try finishLabel(at: bytes.count) }
        wire.append(0)
        guard wire.count <= DNSWire.maxNameLength else {
            throw DNSWireError(.nameTooLong, at: 0, "name \"\(text)\" takes \(wire.count) octets (at most 255)")
        }
        self.wire = wire
    }

    private static func decimalEscape(_ digits: ArraySlice<UInt8>) -> UInt8? {
        guard digits.count == 3 else { return nil }
        var value = 0
        for d in digits {
            guard d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(d - UInt8(ascii: "0"))
        }
        return value <= 255 ? UInt8(value) : nil
    }

    /// The labels, leftmost first, without length octets (the root label is not included).
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var i = 0
        while i < wire.count, wire[i] != 0 {
            let length = Int(wire[i])
            result.append(wire[(i + 1)..<(i + 1 + length)])
            i += 1 + length
        }
        return result
    }

    public var labelCount: Int {
        var count = 0
        var i = 0
        while i < wire.count, wire[i] != 0 {
            count += 1
            i += 1 + Int(wire[i])
        }
        return count
    }

    /// The lowercased wire form, the key records are stored under.
    public var key: [UInt8] { wire.map(asciiLower) }

    public func lowercased() -> DNSName { DNSName(validatedWire: key) }

    /// `label` + "." + self; throws when the label or the result is too long.
    public func prepending(_ label: String) throws -> DNSName {
        let bytes = Array(label.utf8)
        guard !bytes.isEmpty, bytes.count <= DNSWire.maxLabelLength else {
            throw DNSWireError(.labelTooLong, at: 0, "label \"\(label)\" must be 1 to 63 octets")
        }
        guard wire.count + bytes.count + 1 <= DNSWire.maxNameLength else {
            throw DNSWireError(.nameTooLong, at: 0, "\(label).\(self) is longer than 255 octets")
        }
        return DNSName(validatedWire: [UInt8(bytes.count)] + bytes + wire)
    }

    /// Whether self equals `zone` or lies below it (case-insensitive).
    public func isSubdomain(of zone: DNSName) -> Bool {
        guard wire.count >= zone.wire.count else { return false }
        let offset = wire.count - zone.wire.count
        // The suffix must start on a label boundary of self.
        var i = 0
        while i < offset {
            i += 1 + Int(wire[i])
        }
        guard i == offset else { return false }
        for j in 0..<zone.wire.count where asciiLower(wire[offset + j]) != asciiLower(zone.wire[j]) {
            return false
        }
        return true
    }

    /// Presentation format with a trailing dot; dots, backslashes and non-printable octets
    /// inside labels are escaped.
    public var description: String {
        if wire == [0] { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: ";"),
                     UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    text += "\\" + String(UnicodeScalar(byte))
                case 0x21...0x7e:
                    text += String(UnicodeScalar(byte))
                default:
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            text += "."
        }
        return text
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.wire.count == rhs.wire.count else { return false }
        for i in 0..<lhs.wire.count where asciiLower(lhs.wire[i]) != asciiLower(rhs.wire[i]) { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for byte in wire { hasher.combine(asciiLower(byte)) }
    }
}

/// ASCII lowercase of one octet (DNS compares names this way, RFC 4343 §3).
@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 {
    byte &- 0x41 < 26 ? byte | 0x20 : byte
}

/// FNV-1a over lowercased bytes: the hash records are indexed by. Computed while a query's
/// name is decoded, so a lookup needs no allocation.
enum NameHash {
    static let seed: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    @inline(__always)
    static func add(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(byte)) &* prime
    }

    static func of<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h = seed
        for b in bytes { h = add(h, asciiLower(b)) }
        return h
    }
}
