import NodeNetwork

/// Names of the per-service chains and sets, as kube-proxy's nftables mode names them
/// (servicePortChainNameBase, servicePortEndpointChainNameBase): a short hash, then the
/// readable parts joined by "/" (which no Kubernetes name contains, so names never collide and
/// every per-service object is recognisable by its "/"), e.g.
/// `service-0A1B2C3D-default/web/tcp/http`, `endpoint-5E6F7A8B-default/web/tcp/http__10.42.0.5/8080`.
/// Only validated names go in (DNS labels, addresses and numbers printed by us), so a name is
/// at most about 240 bytes, under nftables' 256.
struct ChainNames: Hashable, Sendable {
    /// `HASH-namespace/name/proto/port`.
    let base: String

    init(service: ServiceName, port: ServicePortInfo) {
        base = Self.hashed("\(service.namespace)/\(service.name)/\(port.proto.nftName)/\(port.name)")
    }

    /// Policy chain for `Cluster` traffic: balances over every usable endpoint.
    var cluster: String { "service-" + base }
    /// Policy chain for `Local` traffic: balances over this node's endpoints.
    var local: String { "local-" + base }
    /// Entry chain for traffic from outside (node ports): masquerade or source-keeping policy.
    var external: String { "external-" + base }
    /// The `loadBalancerSourceRanges` check of traffic to load-balancer addresses.
    var firewall: String { "firewall-" + base }

    func endpoint(_ endpoint: EndpointInfo) -> String {
        "endpoint-" + Self.hashed("\(unhashed)__\(endpoint.address)/\(endpoint.port)")
    }

    /// The set of clients stuck to `endpoint`; the timeout is part of the name because a set's
    /// timeout cannot change in place: a new timeout makes a new set, the old one goes.
    func affinitySet(_ endpoint: EndpointInfo, timeout: Int) -> String {
        "affinity-" + Self.hashed("\(unhashed)__\(endpoint.address)/\(endpoint.port)/\(timeout)")
    }

    private var unhashed: String { String(base.dropFirst(9)) }

    /// Whether `name` is one of ours per-service objects (kube-proxy's isServiceChainName).
    static func isServiceChain(_ name: String) -> Bool { name.contains("/") }
    static func isAffinitySet(_ name: String) -> Bool { name.hasPrefix("affinity-") && name.contains("/") }

    /// `XXXXXXXX-name`: 32-bit FNV-1a of the name in hex. Not for security, only so similar
    /// names differ at a glance (kube-proxy uses 8 characters of a SHA-256 the same way).
    static func hashed(_ name: String) -> String {
        var hash: UInt32 = 0x811c_9dc5
        for byte in name.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - hex.count) + hex + "-" + name
    }
}
