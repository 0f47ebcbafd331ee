import NodeNetwork

/// Everything one Service puts in the table: its chains with their rules, its affinity sets
/// and its map elements. A pure function of the Service, its EndpointSlices and the node
/// (`build`), so the proxy can compare what a service had with what it should have and change
/// only the difference.
struct ServiceProgram: Equatable, Sendable {
    struct Chain: Equatable, Sendable {
        let name: String
        let rules: [ProxyRule]
    }

    /// A UDP frontend and the endpoints that may answer it, for conntrack clean-up.
    struct UDPFrontend: Equatable, Sendable {
        let clusterIP: IPv4Address
        let port: UInt16
        let nodePort: UInt16?
        /// Every serving endpoint, whatever the traffic policies (kube-proxy's CleanStaleEntries).
        let endpoints: Set<IPv4Address>
    }

    /// The shard table its chains and dispatch elements live in.
    var table: String
    /// In dependency order: endpoint chains, then the policy chains, then the external chain.
    var chains: [Chain] = []
    /// Affinity set name → timeout in seconds.
    var affinitySets: [String: Int] = [:]
    /// Map elements with their verdicts (nil for elements of a plain set).
    var elements: [ElementKey: NFTVerdict?] = [:]
    var udpFrontends: [UDPFrontend] = []

    /// What `service` with the endpoints of `slices` becomes on this node, following
    /// kube-proxy's nftables syncProxyRules port by port.
    static func build(_ service: ServiceInfo, slices: [SliceInfo], nodeName: String, clusterCIDR: IPv4Subnet,
                      table: String, nodeAddresses: [IPv4Address] = []) -> ServiceProgram {
        var program = ServiceProgram(table: table)
        program.elements[.clusterIP(service.clusterIP)] = .some(nil)
        for port in service.ports {
            program.add(port, of: service, endpoints: EndpointInfo.gather(for: port, from: slices, nodeName: nodeName),
                        clusterCIDR: clusterCIDR)
            program.addFirewall(port, of: service, nodeAddresses: nodeAddresses)
        }
        return program
    }

    /// `loadBalancerSourceRanges`: packets to a load-balancer address from other sources are
    /// dropped before DNAT (kube-proxy's firewall chain and firewall-ips map). When a range
    /// holds the node's address, the load-balancer addresses count as allowed sources too:
    /// the node reaching its own load-balancer address loops back with that address as source.
    private mutating func addFirewall(_ port: ServicePortInfo, of service: ServiceInfo, nodeAddresses: [IPv4Address]) {
        guard !service.sourceRanges.isEmpty, !service.loadBalancerAddresses.isEmpty else { return }
        var allowed = service.sourceRanges
        if nodeAddresses.contains(where: { address in service.sourceRanges.contains { $0.contains(address) } }) {
            allowed += service.loadBalancerAddresses.map { IPv4Subnet(network: $0, prefixLength: 32) }
        }
        let chain = ChainNames(service: service.service, port: port).firewall
        chains.append(Chain(name: chain, rules: allowed.map { .returnIfSourceIn($0) } + [.drop]))
        for address in service.loadBalancerAddresses {
            elements[.serviceIP(.firewallIPs, address, port.proto, port.port)] = .goto(chain)
        }
    }

    private mutating func add(_ port: ServicePortInfo, of service: ServiceInfo, endpoints: [EndpointInfo], clusterCIDR: IPv4Subnet) {
        let names = ChainNames(service: service.service, port: port)
        let categories = EndpointCategories(endpoints, service: service, port: port)
        let usesCluster = !categories.cluster.isEmpty && service.usesClusterEndpoints(port)
        let usesLocal = !categories.local.isEmpty && service.usesLocalEndpoints(port)
        let internalChain = service.internalPolicyLocal ? names.local : names.cluster
        let hasInternal = categories.hasAny && (!service.internalPolicyLocal || !categories.local.isEmpty)
        let externalLocal = service.externalPolicyLocal
        let externalPolicyChain = externalLocal ? names.local : names.cluster
        let hasExternal = categories.hasAny && (!externalLocal || !categories.local.isEmpty)
        let usesExternalChain = categories.hasAny && service.externallyAccessible(port)

        // With no endpoint anywhere a connection is refused; with endpoints elsewhere only (a
        // Local policy) it is dropped, as the client may retry through another node.
        let noEndpoints: NFTVerdict = .goto(ProxyTable.rejectChain)
        let internalFilter: NFTVerdict = categories.hasAny ? .drop : noEndpoints
        let externalFilter: NFTVerdict = categories.hasAny ? .drop : noEndpoints

        if hasInternal {
            elements[.serviceIP(.serviceIPs, service.clusterIP, port.proto, port.port)] = .goto(internalChain)
        } else {
            elements[.serviceIP(.noEndpointServices, service.clusterIP, port.proto, port.port)] = internalFilter
        }
        if let nodePort = port.nodePort {
            if categories.hasAny { elements[.nodePort(.serviceNodePorts, port.proto, nodePort)] = .goto(names.external) }
            if !hasExternal { elements[.nodePort(.noEndpointNodePorts, port.proto, nodePort)] = externalFilter }
        }
        // External and load-balancer addresses share the service-ips map with the cluster IP,
        // but lead to the external chain (kube-proxy's nftables proxier does the same).
        for address in service.externalAddresses {
            if categories.hasAny { elements[.serviceIP(.serviceIPs, address, port.proto, port.port)] = .goto(names.external) }
            if !hasExternal { elements[.serviceIP(.noEndpointServices, address, port.proto, port.port)] = externalFilter }
        }

        // Endpoint chains: hairpin masquerade, affinity bookkeeping, DNAT.
        for endpoint in categories.reachable {
            var rules: [ProxyRule] = [.masqueradeIfSourceIs(endpoint.address)]
            if let timeout = service.affinityTimeout {
                let set = names.affinitySet(endpoint, timeout: timeout)
                affinitySets[set] = timeout
                rules.append(.rememberClient(set: set))
            }
            rules.append(.dnat(port.proto, endpoint.address, endpoint.port))
            chains.append(Chain(name: names.endpoint(endpoint), rules: rules))
        }

        let masqueradeOffCluster = ProxyRule.masqueradeOffCluster(clusterIP: service.clusterIP, port.proto, port.port,
                                                                  clusterCIDR: clusterCIDR)
        if usesCluster {
            let lead = hasInternal && internalChain == names.cluster ? [masqueradeOffCluster] : []
            chains.append(Chain(name: names.cluster, rules: lead + balancing(categories.cluster, names, service)))
        }
        if usesLocal {
            let lead = hasInternal && internalChain == names.local ? [masqueradeOffCluster] : []
            chains.append(Chain(name: names.local, rules: lead + balancing(categories.local, names, service)))
        }
        if usesExternalChain {
            var rules: [ProxyRule]
            if !externalLocal {
                // The endpoint may be on another node: the answer must come back through us.
                rules = [.masquerade]
            } else {
                // Keep the client's address; pods and the node itself still use every endpoint
                // (they reach the node port from inside, like going out to a load balancer).
                rules = [.gotoIfSourceIn(clusterCIDR, names.cluster), .masqueradeIfFromNode, .gotoIfFromNode(names.cluster)]
            }
            if hasExternal { rules.append(.goto(externalPolicyChain)) }
            chains.append(Chain(name: names.external, rules: rules))
        }

        if port.proto == .udp {
            let serving = Set(endpoints.filter(\.serving).map(\.address))
            udpFrontends.append(UDPFrontend(clusterIP: service.clusterIP, port: port.port, nodePort: port.nodePort, endpoints: serving))
        }
    }

    /// Affinity first (a remembered client goes straight to its endpoint), then the random pick.
    private func balancing(_ endpoints: [EndpointInfo], _ names: ChainNames, _ service: ServiceInfo) -> [ProxyRule] {
        var rules: [ProxyRule] = []
        if let timeout = service.affinityTimeout {
            for endpoint in endpoints {
                rules.append(.stickyClient(set: names.affinitySet(endpoint, timeout: timeout), endpointChain: names.endpoint(endpoint)))
            }
        }
        rules.append(.balance(endpoints.map { names.endpoint($0) }))
        return rules
    }

    /// The element keys this program holds that another service's program must not.
    var claimedKeys: [ElementKey] { Array(elements.keys) }
}
