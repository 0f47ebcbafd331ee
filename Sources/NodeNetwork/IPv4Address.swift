/// An IPv4 address as a 32-bit number (host order), printed and parsed in dotted-quad form.
public struct IPv4Address: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The address, most significant byte first when printed.
    public var value: UInt32

    /// From the 32-bit number (10.42.0.1 is 0x0a2a0001).
    public init(_ value: UInt32) { self.value = value }

    /// Parses `10.42.0.1`; nil for anything else (no leading zeros beyond "0", no shorthand).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0", let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    /// The four bytes in network order, as netlink carries them.
    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    /// From four bytes in network order.
    public init(bytes: some Collection<UInt8>) {
        self.value = bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Dotted-quad form.
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    /// Numeric order.
    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}
