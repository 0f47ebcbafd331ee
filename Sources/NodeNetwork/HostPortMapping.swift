/// A pod port published on the node (`containers[].ports[].hostPort`), matched on the node's
/// addresses (or only `hostIP`) and DNATed to the pod, as kubelet's hostport manager and the
/// CNI portmap plugin do.
public struct HostPortMapping: Sendable, Equatable {
    /// The port on the node.
    public var hostPort: UInt16
    /// The port in the pod it leads to.
    public var containerPort: UInt16
    /// "TCP", "UDP" or "SCTP", as in the Pod spec.
    public var proto: String
    /// Only this node address; nil, "" and "0.0.0.0" mean all of them.
    public var hostIP: String?

    /// A mapping; the protocol defaults to TCP as in the Pod spec.
    public init(hostPort: UInt16, containerPort: UInt16, proto: String = "TCP", hostIP: String? = nil) {
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
        self.hostIP = hostIP
    }
}
