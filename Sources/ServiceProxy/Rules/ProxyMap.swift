/// The named sets and maps the per-service programs put elements in; the fixed rules of the
/// table look packets up in them (kube-proxy's nftables mode has the same five).
enum ProxyMap: String, CaseIterable, Sendable {
    /// `ip daddr . meta l4proto . th dport : verdict`: ClusterIP traffic, to the service's chain.
    case serviceIPs = "service-ips"
    /// `meta l4proto . th dport : verdict`: traffic to a node port on a node address.
    case serviceNodePorts = "service-nodeports"
    /// ClusterIP keys of services without usable endpoints: reject (or drop for a Local policy).
    case noEndpointServices = "no-endpoint-services"
    /// Node-port keys of services without usable endpoints.
    case noEndpointNodePorts = "no-endpoint-nodeports"
    /// Every ClusterIP (a set): a packet to one on an unknown port is rejected.
    case clusterIPs = "cluster-ips"
    /// `ip daddr . meta l4proto . th dport : verdict`: load-balancer addresses of services with
    /// `loadBalancerSourceRanges`, to their firewall chain (checked before DNAT).
    case firewallIPs = "firewall-ips"

    /// In the service's shard table (the NAT dispatch and the firewall, whose chains are the
    /// service's) rather than the main table (filters).
    var isPerShard: Bool { self == .serviceIPs || self == .serviceNodePorts || self == .firewallIPs }
}
