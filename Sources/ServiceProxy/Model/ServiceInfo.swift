import NodeNetwork

/// One port of a validated Service, as the proxy programs it.
struct ServicePortInfo: Hashable, Sendable {
    /// The port's name ("" for a single unnamed port): EndpointSlice ports are matched by it.
    let name: String
    let proto: L4Protocol
    let port: UInt16
    /// Set for NodePort and LoadBalancer services.
    let nodePort: UInt16?
}

/// A Service the proxy accepted: every value checked, nothing left as free text.
struct ServiceInfo: Hashable, Sendable {
    let service: ServiceName
    let clusterIP: IPv4Address
    let ports: [ServicePortInfo]
    /// `sessionAffinity: ClientIP`: how long a client sticks to its endpoint, in seconds.
    let affinityTimeout: Int?
    /// `externalTrafficPolicy: Local` on a service reachable from outside (NodePort).
    let externalPolicyLocal: Bool
    /// `internalTrafficPolicy: Local`.
    let internalPolicyLocal: Bool
    /// `spec.externalIPs` and, for a LoadBalancer, the IPs of `status.loadBalancer.ingress`
    /// (ipMode VIP): addresses that reach the service at its own port, from outside as node
    /// ports do (kube-proxy's ExternalIPs and LoadBalancerVIPs). swiftlet's ServiceLB fills the
    /// status with the nodes' addresses, so a LoadBalancer answers on every node (k3s' ServiceLB).
    var externalAddresses: [IPv4Address] = []
    /// The load-balancer addresses among `externalAddresses` (kube-proxy's LoadBalancerVIPs).
    var loadBalancerAddresses: [IPv4Address] = []
    /// `spec.loadBalancerSourceRanges` of a LoadBalancer: when set, only these sources reach
    /// the load-balancer addresses (kube-proxy's firewall chain). An empty list allows all.
    var sourceRanges: [IPv4Subnet] = []

    /// Reachable from outside the cluster network (node ports, external or load-balancer
    /// addresses): kube-proxy's ExternallyAccessible.
    func externallyAccessible(_ port: ServicePortInfo) -> Bool { port.nodePort != nil || !externalAddresses.isEmpty }

    /// kube-proxy's UsesClusterEndpoints: any policy is Cluster, or external destinations
    /// exist (externalTrafficPolicy Local still sends pods' own traffic to all endpoints).
    func usesClusterEndpoints(_ port: ServicePortInfo) -> Bool {
        !internalPolicyLocal || externallyAccessible(port)
    }

    /// kube-proxy's UsesLocalEndpoints.
    func usesLocalEndpoints(_ port: ServicePortInfo) -> Bool {
        internalPolicyLocal || (externalPolicyLocal && externallyAccessible(port))
    }
}
