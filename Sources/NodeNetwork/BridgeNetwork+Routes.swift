import Glibc

extension BridgeNetwork {
    /// Keeps exactly one route per other node, `podCIDR via nodeIP`, tagged with our route
    /// protocol (host-gw, like flannel's backend of that name); routes of ours to nodes no
    /// longer listed are removed, nobody else's are touched. This node's own entry is skipped.
    /// The node addresses must be directly reachable (same L2 segment).
    public func syncRoutes(_ peers: [NodeRoute]) throws {
        var wanted: [IPv4Subnet: Route] = [:]
        for peer in peers {
            guard let cidr = IPv4Subnet(peer.podCIDR) else {
                throw NetworkError.invalid("node route: pod CIDR \"\(peer.podCIDR)\" is not an IPv4 network like 10.42.1.0/24")
            }
            guard let nodeIP = IPv4Address(peer.nodeIP) else {
                throw NetworkError.invalid("node route for \(cidr): node IP \"\(peer.nodeIP)\" is not an IPv4 address")
            }
            if cidr == podSubnet { continue }
            if cidr.contains(podSubnet) || podSubnet.contains(cidr) {
                throw NetworkError.invalid("node route: pod CIDR \(cidr) of \(nodeIP) overlaps this node's \(podSubnet)")
            }
            if let other = wanted[cidr], other.gateway != nodeIP {
                throw NetworkError.invalid("node route: pod CIDR \(cidr) is claimed by both \(other.gateway.map { "\($0)" } ?? "?") and \(nodeIP)")
            }
            wanted[cidr] = Route(destination: cidr, gateway: nodeIP, proto: Route.swiftletProtocol)
        }
        try state.withLock { state in
            let stale = try ownRoutes(state).filter { wanted[$0.destination] == nil }
            let replace = wanted.values.sorted { $0.destination.network < $1.destination.network }
            // One unreachable node must not keep the others' routes from being set or stale
            // ones from going: apply everything, then report the first refusal.
            let refused = try state.node.performEach(replace.map { .replaceRoute($0) }).compactMap { result -> NetworkError? in
                if case .failure(let error) = result { return error }
                return nil
            }
            try Self.deleteRoutes(stale, state)
            if let first = refused.first { throw first }
        }
    }

    /// The routes in the node's main table that carry our protocol.
    func ownRoutes(_ state: State) throws -> [Route] {
        try state.node.routes().filter { $0.proto == Route.swiftletProtocol && $0.table == Route.mainTable }
    }

    /// Deletes routes; one already gone (ESRCH) is fine.
    static func deleteRoutes(_ routes: [Route], _ state: State) throws {
        for result in try state.node.performEach(routes.map { .deleteRoute($0) }) {
            if case .failure(let error) = result, error.errno != ESRCH { throw error }
        }
    }
}
