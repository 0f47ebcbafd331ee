import NodeNetwork

/// The node facts the proxy needs. The agent knows them from its Node object and flags.
public struct ServiceProxyConfig: Sendable {
    /// This node's name: endpoints whose `nodeName` is this are local (traffic policies Local).
    public var nodeName: String
    /// The addresses node ports answer on: the node's own addresses (its InternalIPs), as
    /// kube-proxy's nftables mode does by default (`--nodeport-addresses primary`).
    public var nodeAddresses: [IPv4Address]
    /// All pods of the cluster: traffic from elsewhere to a ClusterIP is masqueraded, and pods
    /// skip externalTrafficPolicy Local (kube-proxy's `--detect-local-mode ClusterCIDR`).
    public var clusterCIDR: IPv4Subnet
    /// The ClusterIP range: a service address outside it is refused, and packets to an
    /// unallocated address inside it are dropped.
    public var serviceCIDR: IPv4Subnet
    /// The node's network namespace (an open fd; -1: the caller's own).
    public var netns: Int32
    /// Our nftables table, `ip <table>`; nothing outside it is ever touched.
    public var table: String
    /// The packet mark bit that says "masquerade on the way out" (kube-proxy's 0x4000).
    public var masqueradeMark: UInt32
    /// How many tables the services are spread over (`ip <table>-0` ...): the kernel re-checks
    /// a whole table on every change, so a change costs what one shard holds (ProxyTable).
    public var shards: Int

    public init(nodeName: String, nodeAddresses: [IPv4Address], clusterCIDR: IPv4Subnet, serviceCIDR: IPv4Subnet,
                netns: Int32 = -1, table: String = "swiftlet-proxy", masqueradeMark: UInt32 = 0x4000, shards: Int = 16) {
        self.nodeName = nodeName
        self.nodeAddresses = nodeAddresses
        self.clusterCIDR = clusterCIDR
        self.serviceCIDR = serviceCIDR
        self.netns = netns
        self.table = table
        self.masqueradeMark = masqueradeMark
        self.shards = shards
    }

    /// Refuses settings that would build a broken or dangerous table, saying what to change.
    func validate() throws {
        if nodeName.isEmpty || nodeName.utf8.count > 253 {
            throw ServiceProxyError.invalidConfiguration("node name \(ServiceValidation.quoted(nodeName)): must be 1 to 253 characters")
        }
        let tableBytes = Array(table.utf8)
        guard (1...60).contains(tableBytes.count), let first = tableBytes.first,
              first >= UInt8(ascii: "a") && first <= UInt8(ascii: "z"),
              tableBytes.allSatisfy({ ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") })
        else {
            throw ServiceProxyError.invalidConfiguration(
                "table name \(ServiceValidation.quoted(table)): use 1 to 60 of a-z, 0-9 and '-', starting with a letter")
        }
        guard (1...64).contains(shards) else {
            throw ServiceProxyError.invalidConfiguration("shards \(shards): must be 1 to 64")
        }
        guard (8...30).contains(clusterCIDR.prefixLength) else {
            throw ServiceProxyError.invalidConfiguration("cluster CIDR \(clusterCIDR): the prefix must be /8 to /30")
        }
        guard (8...30).contains(serviceCIDR.prefixLength) else {
            throw ServiceProxyError.invalidConfiguration("service CIDR \(serviceCIDR): the prefix must be /8 to /30")
        }
        if serviceCIDR.contains(clusterCIDR.network) || clusterCIDR.contains(serviceCIDR.network) {
            throw ServiceProxyError.invalidConfiguration("service CIDR \(serviceCIDR) overlaps the cluster CIDR \(clusterCIDR)")
        }
        guard masqueradeMark != 0, masqueradeMark & (masqueradeMark - 1) == 0 else {
            throw ServiceProxyError.invalidConfiguration("masquerade mark 0x\(String(masqueradeMark, radix: 16)): must be a single bit")
        }
        for address in nodeAddresses where address.value >> 24 == 127 || address.value == 0 {
            // kube-proxy refuses localhost node ports too: they would need route_localnet.
            throw ServiceProxyError.invalidConfiguration("node address \(address): loopback and 0.0.0.0 cannot carry node ports")
        }
    }
}
