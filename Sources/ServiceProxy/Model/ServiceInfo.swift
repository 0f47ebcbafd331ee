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

    /// Reachable from outside the cluster network (node ports): kube-proxy's ExternallyAccessible.
    func externallyAccessible(_ port: ServicePortInfo) -> Bool { port.nodePort != nil }

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
