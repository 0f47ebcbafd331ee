/// Another node's pod subnet and the address it is reached at: a host-gw route
/// `podCIDR via nodeIP`, which needs the nodes on one L2 segment (flannel's host-gw backend).
public struct NodeRoute: Sendable, Equatable, Hashable {
    public var podCIDR: String
    public var nodeIP: String

    public init(podCIDR: String, nodeIP: String) {
        self.podCIDR = podCIDR
        self.nodeIP = nodeIP
    }
}
