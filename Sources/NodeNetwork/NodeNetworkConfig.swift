/// How a node's pod network is laid out. Defaults match k3s' (`10.42.0.0/16` cluster,
/// a `/24` per node) with our own bridge name.
public struct NodeNetworkConfig: Sendable {
    /// The node bridge; holds the first address of `podCIDR`, the pods' gateway.
    public var bridgeName: String
    /// This node's pod subnet (the Node's spec.podCIDR).
    public var podCIDR: String
    /// The whole cluster's pod network: traffic from pods to it is not masqueraded.
    public var clusterCIDR: String
    /// MTU of the bridge and of every pod's veth pair.
    public var mtu: UInt32
    /// Where address allocations and hostPort records live (`/var/lib/swiftlet/agent/network`).
    public var stateDirectory: String
    /// The node's network namespace (an open fd, borrowed: it is duplicated), nil for this
    /// process's own. Tests give each "node" its own namespace so the host is never touched.
    public var nodeNetns: Int32?

    /// A configuration; only the state directory has no default.
    public init(bridgeName: String = "swiftlet0", podCIDR: String = "10.42.0.0/24",
                clusterCIDR: String = "10.42.0.0/16", mtu: UInt32 = 1500,
                stateDirectory: String, nodeNetns: Int32? = nil) {
        self.bridgeName = bridgeName
        self.podCIDR = podCIDR
        self.clusterCIDR = clusterCIDR
        self.mtu = mtu
        self.stateDirectory = stateDirectory
        self.nodeNetns = nodeNetns
    }
}
