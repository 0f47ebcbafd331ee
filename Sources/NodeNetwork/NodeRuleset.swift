/// The node's nftables ruleset, all in our own table `ip swiftlet` so nothing of the host's or
/// of other tools' rules is touched, and `delete table ip swiftlet` undoes it.
///
/// - postrouting (srcnat): traffic from pods leaving the cluster network is masqueraded to the
///   node's address (the outside has no route back to pod addresses); pod-to-pod traffic,
///   also across nodes, keeps its source. Hairpin: a pod reaching a hostPort on its own node
///   is masqueraded too, else the answer would go straight back over the bridge and miss the
///   reverse DNAT (what kubelet's hostport manager and CNI portmap do).
/// - prerouting and output (dstnat): packets to a local address of the node go through the
///   hostPort maps: `proto . port → podIP . containerPort`, and the same keyed by a specific
///   node address for `hostIP`. Elements are added and removed per pod; the chains never
///   change after `ensureNode`. Loopback is left out (it would need route_localnet).
enum NodeRuleset {
    static let table = "ip swiftlet"
    static let anyAddressMap = "hostports"
    static let byAddressMap = "hostports-by-ip"

    /// Creates or refreshes the table (idempotent; one transaction). The hostPort maps keep
    /// their elements, so pods keep their ports across an agent restart.
    static func ensure(podCIDR: IPv4Subnet, clusterCIDR: IPv4Subnet) -> String {
        """
        add table \(table)
        add chain \(table) postrouting { type nat hook postrouting priority srcnat; policy accept; }
        add chain \(table) prerouting { type nat hook prerouting priority dstnat; policy accept; }
        add chain \(table) output { type nat hook output priority -100; policy accept; }
        add chain \(table) hostport-dnat
        add map \(table) \(anyAddressMap) { type inet_proto . inet_service : ipv4_addr . inet_service; }
        add map \(table) \(byAddressMap) { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
        flush chain \(table) postrouting
        flush chain \(table) prerouting
        flush chain \(table) output
        flush chain \(table) hostport-dnat
        add rule \(table) postrouting ip saddr \(podCIDR) ip daddr \(podCIDR) ct status dnat masquerade
        add rule \(table) postrouting ip saddr \(podCIDR) ip daddr != \(clusterCIDR) masquerade
        add rule \(table) prerouting fib daddr type local jump hostport-dnat
        add rule \(table) output ip daddr != 127.0.0.0/8 fib daddr type local jump hostport-dnat
        add rule \(table) hostport-dnat dnat to ip daddr . meta l4proto . th dport map @\(byAddressMap)
        add rule \(table) hostport-dnat dnat to meta l4proto . th dport map @\(anyAddressMap)

        """
    }

    /// Adds a pod's hostPorts. A port another pod holds fails the whole transaction with
    /// EEXIST (same key, different pod address), so a port is never silently taken over.
    static func add(_ rules: [HostPortRule]) -> String {
        rules.map { "add element \(table) \($0.map) { \($0.key) : \($0.value) }\n" }.joined()
    }

    /// Removes a pod's hostPorts, idempotently: each element is (re)added with its own value
    /// and then deleted, in one transaction, so one that is already gone is no error
    /// (nftables 1.0.6 has no `destroy element`).
    static func remove(_ rules: [HostPortRule]) -> String {
        rules.map {
            "add element \(table) \($0.map) { \($0.key) : \($0.value) }\n"
                + "delete element \(table) \($0.map) { \($0.key) }\n"
        }.joined()
    }

    /// Deletes the whole table; no error when it is already gone.
    static let removeTable = "add table \(table)\ndelete table \(table)\n"
}
