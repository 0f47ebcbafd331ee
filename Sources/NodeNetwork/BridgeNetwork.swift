import CShims
import Glibc
import Synchronization

/// The pod network of one node on a Linux bridge, all through rtnetlink and libnftables in
/// the node's network namespace (no `ip` or `nft` processes):
///
/// - node: bridge `swiftlet0` with the first address of the pod CIDR (the pods' gateway),
///   `net.ipv4.ip_forward=1`, and the table `ip swiftlet` (masquerade, hostPort maps);
/// - pod: a veth pair `swl<hash of uid>` ↔ `eth0`, the peer created directly inside the pod's
///   namespace, an address from the host-local allocator, a default route via the bridge;
/// - other nodes: host-gw routes to their pod CIDRs, tagged with our route protocol.
///
/// Operations are serialised (one netlink exchange or nft transaction at a time); each is
/// idempotent, so a failed one can simply be repeated. Pod operations live in
/// `BridgeNetwork+Pods.swift`, routes in `BridgeNetwork+Routes.swift`.
public final class BridgeNetwork: PodNetwork {
    /// The configuration this node network was made with.
    public let config: NodeNetworkConfig
    let podSubnet: IPv4Subnet
    let clusterSubnet: IPv4Subnet
    /// The bridge address: the first of the pod subnet.
    let gateway: IPv4Address
    /// Our own duplicate of `config.nodeNetns`, or -1 for this process's namespace.
    let nodeNetns: Int32
    let state: Mutex<State>

    /// What a node operation works with; only touched under the lock.
    struct State {
        let node: RouteNetlink
        let nft: NFTables
        let allocator: HostLocalAllocator
        /// The bridge's ifindex once `ensureNode` has seen it.
        var bridgeIndex: Int32?
    }

    /// Opens the node namespace's netlink socket and nftables context and loads the address
    /// allocations of `config.stateDirectory`. Changes nothing on the node: `ensureNode` does.
    public init(config: NodeNetworkConfig) throws {
        guard let pod = IPv4Subnet(config.podCIDR) else {
            throw NetworkError.invalid("pod CIDR \"\(config.podCIDR)\" is not an IPv4 network like 10.42.0.0/24")
        }
        guard let cluster = IPv4Subnet(config.clusterCIDR) else {
            throw NetworkError.invalid("cluster CIDR \"\(config.clusterCIDR)\" is not an IPv4 network like 10.42.0.0/16")
        }
        guard cluster.contains(pod) else {
            throw NetworkError.invalid("pod CIDR \(pod) is not inside the cluster CIDR \(cluster)")
        }
        guard !config.bridgeName.isEmpty, config.bridgeName.utf8.count <= 15, !config.bridgeName.contains("/") else {
            throw NetworkError.invalid("bridge name \"\(config.bridgeName)\" must be 1 to 15 characters without '/'")
        }
        guard (576...65535).contains(config.mtu) else {
            throw NetworkError.invalid("MTU \(config.mtu) is out of range (576 to 65535)")
        }
        self.config = config
        self.podSubnet = pod
        self.clusterSubnet = cluster
        self.gateway = pod.address(at: 1)
        var netns: Int32 = -1
        if let fd = config.nodeNetns {
            netns = fcntl(fd, F_DUPFD_CLOEXEC, 0)
            guard netns >= 0 else {
                throw NetworkError.system(step: "dup", detail: "node network namespace fd \(fd)", errno: errno)
            }
        }
        self.nodeNetns = netns
        do {
            let socket = try RouteSocket(netns: netns >= 0 ? netns : nil, owner: "node")
            let state = State(
                node: RouteNetlink(socket: socket),
                nft: try NFTables(netns: netns),
                allocator: try HostLocalAllocator(directory: config.stateDirectory + "/ipam", subnet: pod, gateway: gateway),
                bridgeIndex: nil)
            self.state = Mutex(state)
        } catch {
            if netns >= 0 { close(netns) }
            throw error
        }
    }

    deinit {
        if nodeNetns >= 0 { close(nodeNetns) }
    }

    /// The host-side veth of a pod: `swl` and 12 hex digits of a hash of its UID, within the
    /// kernel's 15 characters, found again from the UID alone after a restart.
    public static func hostVethName(podUID: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 // FNV-1a, 64 bit
        for byte in podUID.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash >> 16, radix: 16)
        return "swl" + String(repeating: "0", count: 12 - hex.count) + hex
    }

    /// Sets the node up, idempotently: the bridge (created with a fixed MAC when missing) with
    /// the gateway address and up, `net.ipv4.ip_forward=1`, and the `ip swiftlet` table. The
    /// agent calls it at start; the node's NetworkUnavailable condition is false after it.
    public func ensureNode() throws {
        try state.withLock { state in
            let name = config.bridgeName
            var bridge = try state.node.link(named: name)
            if bridge == nil {
                let mac = [0x02, 0x53] + gateway.bytes // locally administered, unique per node subnet
                switch try state.node.performEach([.createBridge(name: name, mtu: config.mtu, mac: mac)])[0] {
                case .success: break
                case .failure(let error) where error.errno == EEXIST: break // created meanwhile
                case .failure(let error): throw error
                }
                bridge = try state.node.link(named: name)
            }
            guard let bridge else {
                throw NetworkError.nodeNotReady("bridge \(name) vanished right after it was created")
            }
            try state.node.perform([
                .replaceAddress(index: bridge.index, address: gateway, prefixLength: podSubnet.prefixLength),
                .setLink(LinkChange(index: bridge.index, up: true, mtu: config.mtu)),
            ])
            var step: UnsafePointer<CChar>? = nil
            if sl_netns_write_file(nodeNetns, "/proc/sys/net/ipv4/ip_forward", "1", &step) != 0 {
                throw NetworkError.system(step: step.map { String(cString: $0) } ?? "write",
                                          detail: "/proc/sys/net/ipv4/ip_forward", errno: errno)
            }
            try state.nft.run(NodeRuleset.ensure(podCIDR: podSubnet, clusterCIDR: clusterSubnet),
                              what: "create table \(NodeRuleset.table)")
            state.bridgeIndex = bridge.index
        }
    }

    /// Undoes `ensureNode` and `syncRoutes`: deletes the bridge, the `ip swiftlet` table and our
    /// routes. For tests and uninstall; pods should be torn down first (their veths and
    /// allocations are not touched here). ip_forward is left on: others may rely on it.
    public func removeNode() throws {
        try state.withLock { state in
            state.bridgeIndex = nil
            if case .failure(let error) = try state.node.performEach([.deleteLink(name: config.bridgeName)])[0],
               error.errno != ENODEV {
                throw error
            }
            try state.nft.run(NodeRuleset.removeTable, what: "delete table \(NodeRuleset.table)")
            try Self.deleteRoutes(try ownRoutes(state), state)
        }
    }

    /// The bridge's index, looked up once.
    func bridgeIndex(_ state: inout State) throws -> Int32 {
        if let index = state.bridgeIndex { return index }
        guard let bridge = try state.node.link(named: config.bridgeName) else {
            throw NetworkError.nodeNotReady(
                "bridge \(config.bridgeName) does not exist in the node's network namespace: ensureNode() must run before pods are set up")
        }
        state.bridgeIndex = bridge.index
        return bridge.index
    }
}
