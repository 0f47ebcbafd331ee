import NodeNetwork

/// One backend of one service port: the address and port a connection is DNATed to.
struct EndpointInfo: Hashable, Sendable, Comparable {
    let address: IPv4Address
    let port: UInt16
    let ready: Bool
    let serving: Bool
    let terminating: Bool
    /// On this node (the slice's nodeName is ours).
    let isLocal: Bool

    static func < (lhs: EndpointInfo, rhs: EndpointInfo) -> Bool {
        (lhs.address, lhs.port) < (rhs.address, rhs.port)
    }

    /// kube-proxy's fallback class: still passing readiness while shutting down.
    var servingTerminating: Bool { serving && terminating }

    /// The endpoints of one service port, gathered from all slices of its service: the slice
    /// ports with the service port's name and protocol. An address listed twice (in two
    /// slices while the controller moves it) counts once, preferring its readiest state, as
    /// kube-proxy's EndpointSliceCache does.
    static func gather(for port: ServicePortInfo, from slices: some Sequence<SliceInfo>, nodeName: String) -> [EndpointInfo] {
        var byTarget: [String: EndpointInfo] = [:]
        for slice in slices {
            for slicePort in slice.ports where slicePort.name == port.name && slicePort.proto == port.proto {
                for endpoint in slice.endpoints {
                    let info = EndpointInfo(address: endpoint.address, port: slicePort.port, ready: endpoint.ready,
                                            serving: endpoint.serving, terminating: endpoint.terminating,
                                            isLocal: endpoint.nodeName == nodeName)
                    let key = "\(info.address):\(info.port)"
                    if let existing = byTarget[key], existing.rank >= info.rank { continue }
                    byTarget[key] = info
                }
            }
        }
        return byTarget.values.sorted()
    }

    private var rank: Int { ready ? 2 : (servingTerminating ? 1 : 0) }
}

/// The endpoints a service port uses from this node: kube-proxy's CategorizeEndpoints
/// (pkg/proxy/topology.go) without topology hints. Ready endpoints are used; only when none is
/// ready anywhere (per policy) are serving-but-terminating ones used, as a last resort.
struct EndpointCategories: Equatable {
    /// For `Cluster` traffic policy (empty when the port never uses it).
    var cluster: [EndpointInfo] = []
    /// For `Local` traffic policy (empty when the port never uses it).
    var local: [EndpointInfo] = []
    /// Every endpoint this node may DNAT to: the union of both.
    var reachable: [EndpointInfo] = []
    /// Whether the service has usable endpoints anywhere in the cluster.
    var hasAny = false

    init(_ endpoints: [EndpointInfo], service: ServiceInfo, port: ServicePortInfo) {
        guard !endpoints.isEmpty else { return }
        let usesCluster = service.usesClusterEndpoints(port)
        if usesCluster {
            cluster = endpoints.filter(\.ready)
            if cluster.isEmpty { cluster = endpoints.filter(\.servingTerminating) }
            hasAny = !cluster.isEmpty
        }
        guard service.usesLocalEndpoints(port) else {
            reachable = cluster
            return
        }
        let usableAnywhere = endpoints.contains { $0.ready || $0.servingTerminating }
        hasAny = hasAny || usableAnywhere
        let localReady = endpoints.filter { $0.isLocal && $0.ready }
        let usesFallback = localReady.isEmpty
        local = usesFallback ? endpoints.filter { $0.isLocal && $0.servingTerminating } : localReady
        if !usesCluster {
            reachable = local
        } else if !usesFallback {
            // Local holds only ready endpoints, which Cluster (every ready one) already has.
            reachable = cluster
        } else {
            reachable = Array(Set(cluster).union(local)).sorted()
        }
    }
}
