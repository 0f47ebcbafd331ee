import NodeNetwork

/// One element of a ProxyMap: its key bytes as nft lays out a concatenation (each field
/// padded to 4 bytes), printed like nft prints the key.
struct ElementKey: Hashable, Sendable, CustomStringConvertible {
    let map: ProxyMap
    let bytes: [UInt8]
    let text: String

    /// `<ip> . <proto> . <port>` in service-ips / no-endpoint-services.
    static func serviceIP(_ map: ProxyMap, _ ip: IPv4Address, _ proto: L4Protocol, _ port: UInt16) -> ElementKey {
        ElementKey(map: map, bytes: ip.bytes + [proto.number, 0, 0, 0] + ProxyRule.be16(port) + [0, 0],
                   text: "\(ip) . \(proto.nftName) . \(port)")
    }

    /// `<proto> . <port>` in service-nodeports / no-endpoint-nodeports.
    static func nodePort(_ map: ProxyMap, _ proto: L4Protocol, _ port: UInt16) -> ElementKey {
        ElementKey(map: map, bytes: [proto.number, 0, 0, 0] + ProxyRule.be16(port) + [0, 0], text: "\(proto.nftName) . \(port)")
    }

    /// `<ip>` in cluster-ips.
    static func clusterIP(_ ip: IPv4Address) -> ElementKey {
        ElementKey(map: .clusterIPs, bytes: ip.bytes, text: "\(ip)")
    }

    var description: String { "\(map.rawValue) { \(text) }" }

    // The text is derived from the bytes: equality and hashing need only map and bytes.
    static func == (lhs: ElementKey, rhs: ElementKey) -> Bool { lhs.map == rhs.map && lhs.bytes == rhs.bytes }

    func hash(into hasher: inout Hasher) {
        hasher.combine(map)
        hasher.combine(bytes)
    }
}
