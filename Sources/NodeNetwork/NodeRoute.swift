/// Another node's pod subnet and the address it is reached at: a host-gw route
/// `podCIDR via nodeIP`, which needs the nodes on one L2 segment (flannel's host-gw backend).
public struct NodeRoute: Sendable, Equatable, Hashable {
    /// The other node's pod subnet (its Node's spec.podCIDR).
    public var podCIDR: String
    /// The other node's address (its InternalIP), the route's gateway.
    public var nodeIP: String

    /// A route to another node's pods.
    public init(podCIDR: String, nodeIP: String) {
        self.podCIDR = podCIDR
        self.nodeIP = nodeIP
    }
}
