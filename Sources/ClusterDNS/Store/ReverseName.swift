/// Reverse-mapping names for PTR records: `d.c.b.a.in-addr.arpa.` (RFC 1035 §3.5) and the
/// nibble form under `ip6.arpa.` (RFC 3596 §2.5), as lowercased wire bytes.
enum ReverseName {
    static let inAddrArpa: [UInt8] = [7] + Array("in-addr".utf8) + [4] + Array("arpa".utf8) + [0]
    static let ip6Arpa: [UInt8] = [3] + Array("ip6".utf8) + [4] + Array("arpa".utf8) + [0]

    /// The reverse name of a 4- or 16-octet address.
    static func of(_ address: [UInt8]) -> [UInt8] {
        var wire: [UInt8] = []
        if address.count == 4 {
            for octet in address.reversed() {
                let digits = Array(String(octet).utf8)
                wire.append(UInt8(digits.count))
                wire.append(contentsOf: digits)
            }
            return wire + inAddrArpa
        }
        let hex = Array("0123456789abcdef".utf8)
        for octet in address.reversed() {
            wire.append(1)
            wire.append(hex[Int(octet & 0x0F)])
            wire.append(1)
            wire.append(hex[Int(octet >> 4)])
        }
        return wire + ip6Arpa
    }

    /// Whether the lowercased wire name lies under in-addr.arpa or ip6.arpa.
    static func isReverse(_ name: UnsafeRawBufferPointer) -> Bool {
        hasSuffix(name, inAddrArpa) || hasSuffix(name, ip6Arpa)
    }

    private static func hasSuffix(_ name: UnsafeRawBufferPointer, _ suffix: [UInt8]) -> Bool {
        guard name.count >= suffix.count else { return false }
        let offset = name.count - suffix.count
        // The suffix must start at a label boundary.
        var i = 0
        while i < offset { i += 1 + Int(name[i]) }
        guard i == offset else { return false }
        for k in 0..<suffix.count where name[offset + k] != suffix[k] { return false }
        return true
    }
}
