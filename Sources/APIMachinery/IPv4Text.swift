/// IPv4 addresses and networks as text, for the service CIDR (the API server's allocator) and
/// the cluster CIDR (node IPAM): both sides parse the same flags the same way.
package enum IPv4Text {
    /// The address of a dotted quad (`10.43.0.1`); nil for anything else. Each part is one to
    /// three ASCII digits: Swift's `UInt32("+1")` alone would let `+1.+2.+3.+4` through, which
    /// Go's `net.ParseIP` (and so Kubernetes' validation) refuses.
    package static func parseIPv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, isDigits(part),
                  let octet = UInt32(part), octet <= 255 else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    /// The network and prefix length of `a.b.c.d/n` (`n` all digits), host bits cleared.
    package static func parseCIDR(_ text: String) -> (UInt32, Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = parseIPv4(String(parts[0])), isDigits(parts[1]), let length = Int(parts[1]),
              (0...32).contains(length) else {
            return nil
        }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - UInt32(length))
        return (address & mask, length)
    }

    private static func isDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// The dotted quad of an address.
    package static func format(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}
