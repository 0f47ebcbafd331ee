/// An IPv4 network in CIDR form (`10.42.0.0/24`), always stored by its network address.
public struct IPv4Subnet: Sendable, Hashable, CustomStringConvertible {
    /// The network address (host bits zero).
    public let network: IPv4Address
    /// The prefix length, 0...32.
    public let prefixLength: Int

    /// Parses `10.42.0.0/24`. Host bits must be zero, as Kubernetes requires of a podCIDR
    /// (`10.42.0.1/24` is refused rather than silently meaning another network), unless
    /// `hostBitsAllowed`: then `10.0.0.5/8` is `10.0.0.0/8`, as Go's `net.ParseCIDR` reads it
    /// (what kube-proxy does with `loadBalancerSourceRanges`).
    public init?(_ text: String, hostBitsAllowed: Bool = false) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(String(parts[0])),
              parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]),
              (0...32).contains(length) else { return nil }
        self.init(network: address, prefixLength: length)
        guard hostBitsAllowed || self.network == address else { return nil }
    }

    /// The subnet of `address` with `prefixLength` bits (host bits cleared).
    public init(network address: IPv4Address, prefixLength: Int) {
        let length = min(max(prefixLength, 0), 32)
        self.prefixLength = length
        self.network = IPv4Address(address.value & Self.mask(length))
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }

    /// The netmask as a number.
    public var mask: UInt32 { Self.mask(prefixLength) }

    /// The last address (broadcast for prefixes up to /30).
    public var broadcast: IPv4Address { IPv4Address(network.value | ~mask) }

    /// Number of addresses, including network and broadcast.
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    /// Whether `address` lies in this subnet.
    public func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

    /// Whether `other` lies entirely inside this subnet.
    public func contains(_ other: IPv4Subnet) -> Bool {
        other.prefixLength >= prefixLength && contains(other.network)
    }

    /// The address `offset` places after the network address.
    public func address(at offset: UInt32) -> IPv4Address { IPv4Address(network.value &+ offset) }

    /// CIDR form.
    public var description: String { "\(network)/\(prefixLength)" }
}
