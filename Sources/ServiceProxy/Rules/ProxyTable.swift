import NodeNetwork

/// The tables the proxy owns and their fixed parts. Everything per service lives in chains,
/// sets and map elements the netlink batches manage; the fixed part is written as nft text
/// (once per full sync: small, and libnftables' cost does not matter there) and never refers to
/// a service. Modelled on kube-proxy's setupNFTables (pkg/proxy/nftables/proxier.go), split in two:
///
/// - the main table `ip <name>`: filters before and after DNAT (refusing services without
///   endpoints, unknown ClusterIP ports, unallocated addresses) and the masquerade on the way out;
/// - `shards` tables `ip <name>-<k>`, each with its own NAT hooks, dispatch maps and the chains
///   of the services hashed to it.
///
/// Why shards: whenever a transaction adds a jump or goto, the kernel re-validates every path
/// of the table it touches from each base chain (nf_tables_validate → nft_table_validate),
/// which took 60 ms at 3,000 services in one table. Validation is per table, so a change costs
/// what its shard holds. A new connection's first packet looks itself up in each shard's map
/// (NAT chains see no later packet of a connection).
struct ProxyTable: Sendable {
    let name: String
    let shards: Int
    let clusterCIDR: IPv4Subnet
    let serviceCIDR: IPv4Subnet
    let nodeAddresses: [IPv4Address]
    let masqueradeMark: UInt32

    static let rejectChain = "reject-chain"

    /// The table of shard `index`.
    static func shardName(_ main: String, _ index: Int) -> String { "\(main)-\(index)" }

    /// The shard a service's chains live in: stable across restarts (FNV-1a of its name).
    static func shard(of service: ServiceName, shards: Int) -> Int {
        var hash: UInt32 = 0x811c_9dc5
        for byte in "\(service.namespace)/\(service.name)".utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        return Int(hash % UInt32(shards))
    }

    /// Whether `table` is one of ours (the main table or any shard, also of another shard count).
    static func isOurs(_ table: String, main: String) -> Bool {
        table == main || (table.hasPrefix(main + "-") && table.dropFirst(main.count + 1).allSatisfy(\.isNumber))
    }

    /// Base chains of the main table: filters run before DNAT (priority dstnat - 10) so they
    /// see the service address; `filter-output-post-dnat` after it, to catch ClusterIPs nobody
    /// DNATed.
    static let mainBaseChains: [(name: String, type: String, hook: String, priority: Int)] = [
        ("filter-input", "filter", "input", -110),
        ("filter-forward", "filter", "forward", -110),
        ("filter-output", "filter", "output", -110),
        ("filter-output-post-dnat", "filter", "output", -90),
        ("nat-postrouting", "nat", "postrouting", 100),
    ]

    /// Base chains of each shard: the firewall before DNAT (dstnat - 10, where it still sees
    /// the load-balancer address, as kube-proxy's filter-prerouting), then the NAT dispatch.
    static let shardBaseChains: [(name: String, type: String, hook: String, priority: Int)] = [
        ("filter-prerouting", "filter", "prerouting", -110),
        ("filter-output", "filter", "output", -110),
        ("nat-prerouting", "nat", "prerouting", -100),
        ("nat-output", "nat", "output", -100),
    ]

    /// The transaction that creates or refreshes the fixed parts of all our tables. Sets and
    /// maps are only added (kept with their elements); base and fixed chains are flushed and
    /// refilled in the same transaction, so traffic never sees them half done. With
    /// `recreateBaseChains` the base chains are deleted and added again (kube-proxy does so once
    /// per start) so a changed priority applies.
    func setup(recreateBaseChains: Bool) -> String {
        var lines = mainSetup(recreateBaseChains: recreateBaseChains)
        for index in 0..<shards { lines += shardSetup(Self.shardName(name, index), recreateBaseChains: recreateBaseChains) }
        return lines.joined(separator: "\n") + "\n"
    }

    private var mark: String { "0x" + String(masqueradeMark, radix: 16) }

    private func chains(_ table: String, base: [(name: String, type: String, hook: String, priority: Int)], fixed: [String],
                        recreate: Bool) -> [String] {
        var lines = ["add table \(table)"]
        if recreate {
            for chain in base { lines += ["add chain \(table) \(chain.name)", "delete chain \(table) \(chain.name)"] }
        }
        for chain in base {
            lines.append("add chain \(table) \(chain.name) { type \(chain.type) hook \(chain.hook) priority \(chain.priority); policy accept; }")
            lines.append("flush chain \(table) \(chain.name)")
        }
        for chain in fixed { lines += ["add chain \(table) \(chain)", "flush chain \(table) \(chain)"] }
        return lines
    }

    private func nodePortAddresses(_ table: String) -> [String] {
        var lines = ["add set \(table) nodeport-ips { type ipv4_addr; }", "flush set \(table) nodeport-ips"]
        if !nodeAddresses.isEmpty {
            lines.append("add element \(table) nodeport-ips { \(nodeAddresses.map(\.description).joined(separator: ", ")) }")
        }
        return lines
    }

    private func mainSetup(recreateBaseChains: Bool) -> [String] {
        let table = "ip \(name)"
        var lines = chains(table, base: Self.mainBaseChains,
                           fixed: ["masquerading", "service-endpoints-check", "nodeport-endpoints-check", "cluster-ips-check", Self.rejectChain],
                           recreate: recreateBaseChains)
        lines += [
            "add map \(table) \(ProxyMap.noEndpointServices.rawValue) { type ipv4_addr . inet_proto . inet_service : verdict; }",
            "add map \(table) \(ProxyMap.noEndpointNodePorts.rawValue) { type inet_proto . inet_service : verdict; }",
            "add set \(table) \(ProxyMap.clusterIPs.rawValue) { type ipv4_addr; }",
        ]
        lines += nodePortAddresses(table)
        lines += [
            // New connections only: an established one keeps its endpoint whatever changes.
            "add rule \(table) filter-input ct state new jump nodeport-endpoints-check",
            "add rule \(table) filter-input ct state new jump service-endpoints-check",
            "add rule \(table) filter-forward ct state new jump service-endpoints-check",
            "add rule \(table) filter-forward ct state new jump cluster-ips-check",
            "add rule \(table) filter-output ct state new jump service-endpoints-check",
            "add rule \(table) filter-output-post-dnat ct state new jump cluster-ips-check",
            "add rule \(table) nat-postrouting jump masquerading",
            // The shards' mark only says "masquerade on the way out"; it is cleared before
            // leaving so nothing else on the node sees our bit (kube-proxy's 0x4000 by default).
            "add rule \(table) masquerading meta mark & \(mark) == 0 return",
            "add rule \(table) masquerading meta mark set meta mark xor \(mark)",
            "add rule \(table) masquerading masquerade fully-random",
            "add rule \(table) service-endpoints-check ip daddr . meta l4proto . th dport vmap @\(ProxyMap.noEndpointServices.rawValue)",
            "add rule \(table) nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @\(ProxyMap.noEndpointNodePorts.rawValue)",
            // Reached only when nothing DNATed the packet: a ClusterIP on a port it does not
            // serve is refused at once, an unallocated address in the range is dropped.
            "add rule \(table) cluster-ips-check ip daddr @\(ProxyMap.clusterIPs.rawValue) reject",
            "add rule \(table) cluster-ips-check ip daddr \(serviceCIDR) drop",
            // A TCP client gets a reset (ECONNREFUSED at once), others ICMP port unreachable.
            "add rule \(table) \(Self.rejectChain) meta l4proto tcp reject with tcp reset",
            "add rule \(table) \(Self.rejectChain) reject",
        ]
        return lines
    }

    private func shardSetup(_ shard: String, recreateBaseChains: Bool) -> [String] {
        let table = "ip \(shard)"
        var lines = chains(table, base: Self.shardBaseChains, fixed: ["services", "firewall-check", ProxyRule.markChain],
                           recreate: recreateBaseChains)
        lines += [
            "add map \(table) \(ProxyMap.serviceIPs.rawValue) { type ipv4_addr . inet_proto . inet_service : verdict; }",
            "add map \(table) \(ProxyMap.serviceNodePorts.rawValue) { type inet_proto . inet_service : verdict; }",
            "add map \(table) \(ProxyMap.firewallIPs.rawValue) { type ipv4_addr . inet_proto . inet_service : verdict; }",
        ]
        lines += nodePortAddresses(table)
        lines += [
            "add rule \(table) filter-prerouting ct state new jump firewall-check",
            "add rule \(table) filter-output ct state new jump firewall-check",
            "add rule \(table) firewall-check ip daddr . meta l4proto . th dport vmap @\(ProxyMap.firewallIPs.rawValue)",
            "add rule \(table) nat-prerouting jump services",
            "add rule \(table) nat-output jump services",
            "add rule \(table) \(ProxyRule.markChain) meta mark set meta mark or \(mark)",
            "add rule \(table) services ip daddr . meta l4proto . th dport vmap @\(ProxyMap.serviceIPs.rawValue)",
            "add rule \(table) services ip daddr @nodeport-ips meta l4proto . th dport vmap @\(ProxyMap.serviceNodePorts.rawValue)",
        ]
        return lines
    }

    /// Removes `tables`; no error for one already gone.
    static func removal(of tables: [String]) -> String {
        tables.map { "add table ip \($0)\ndelete table ip \($0)\n" }.joined()
    }
}
