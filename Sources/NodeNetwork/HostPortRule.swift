/// One hostPort as the node's nftables maps hold it, resolved to the pod's address and
/// recorded per pod so teardown can remove exactly its elements.
struct HostPortRule: Sendable, Equatable {
    /// nft's protocol name: tcp, udp or sctp.
    var proto: String
    var hostPort: UInt16
    /// nil: every local address of the node.
    var hostIP: IPv4Address?
    var podIP: IPv4Address
    var containerPort: UInt16

    /// Validates a mapping from the Pod spec; nil for hostPort 0 (not published).
    init?(_ mapping: HostPortMapping, podIP: IPv4Address) throws {
        guard mapping.hostPort != 0 else { return nil }
        guard mapping.containerPort != 0 else {
            throw NetworkError.invalid("hostPort \(mapping.hostPort): containerPort must not be 0")
        }
        switch mapping.proto.uppercased() {
        case "TCP", "": proto = "tcp"
        case "UDP": proto = "udp"
        case "SCTP": proto = "sctp"
        default:
            throw NetworkError.invalid("hostPort \(mapping.hostPort): protocol \"\(mapping.proto)\" is not TCP, UDP or SCTP")
        }
        if let text = mapping.hostIP, !text.isEmpty, text != "0.0.0.0" {
            guard let address = IPv4Address(text) else {
                throw NetworkError.invalid("hostPort \(mapping.hostPort): hostIP \"\(text)\" is not an IPv4 address")
            }
            hostIP = address
        } else {
            hostIP = nil
        }
        hostPort = mapping.hostPort
        containerPort = mapping.containerPort
        self.podIP = podIP
    }

    init(proto: String, hostPort: UInt16, hostIP: IPv4Address?, podIP: IPv4Address, containerPort: UInt16) {
        self.proto = proto
        self.hostPort = hostPort
        self.hostIP = hostIP
        self.podIP = podIP
        self.containerPort = containerPort
    }

    /// The map this rule lives in.
    var map: String { hostIP == nil ? NodeRuleset.anyAddressMap : NodeRuleset.byAddressMap }

    /// `tcp . 8080` or `192.168.1.5 . tcp . 8080`.
    var key: String { (hostIP.map { "\($0) . " } ?? "") + "\(proto) . \(hostPort)" }

    /// `10.42.0.5 . 80`.
    var value: String { "\(podIP) . \(containerPort)" }

    /// The record line: `tcp 8080 10.42.0.5 80 -` (last field the hostIP or `-`).
    var line: String { "\(proto) \(hostPort) \(podIP) \(containerPort) \(hostIP?.description ?? "-")" }

    /// Parses a record line; nil for anything malformed.
    init?(line: String) {
        let f = line.split(separator: " ").map(String.init)
        guard f.count == 5, ["tcp", "udp", "sctp"].contains(f[0]), let hostPort = UInt16(f[1]),
              let podIP = IPv4Address(f[2]), let containerPort = UInt16(f[3]) else { return nil }
        let hostIP = f[4] == "-" ? nil : IPv4Address(f[4])
        if f[4] != "-" && hostIP == nil { return nil }
        self.init(proto: f[0], hostPort: hostPort, hostIP: hostIP, podIP: podIP, containerPort: containerPort)
    }
}
