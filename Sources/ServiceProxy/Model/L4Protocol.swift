/// A transport protocol a Service port can use (Kubernetes' `v1.Protocol`).
public enum L4Protocol: String, Sendable, Hashable, CaseIterable {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"

    /// The IP protocol number (meta l4proto, conntrack).
    var number: UInt8 {
        switch self {
        case .tcp: return 6
        case .udp: return 17
        case .sctp: return 132
        }
    }

    /// nft's spelling: `tcp`, `udp`, `sctp`.
    var nftName: String { rawValue.lowercased() }
}
