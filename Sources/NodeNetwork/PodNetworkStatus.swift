/// What the network reports of a plumbed pod (the pod's status.podIPs).
public struct PodNetworkStatus: Sendable, Equatable {
    /// The pod's addresses, IPv4 first.
    public var ips: [String]
    /// The bridge address, the pod's default gateway.
    public var gateway: String
    /// The pod's interface, "eth0".
    public var interface: String

    /// A status.
    public init(ips: [String], gateway: String, interface: String) {
        self.ips = ips
        self.gateway = gateway
        self.interface = interface
    }
}
