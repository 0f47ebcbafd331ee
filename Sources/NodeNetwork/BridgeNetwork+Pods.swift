import Glibc

extension BridgeNetwork {
    /// The pod's interface name, as Kubernetes network plugins name it.
    static let podInterface = "eth0"

    /// See `PodNetwork.setUp`. A pod seen for the first time that fails half-way is rolled back.
    public func setUp(podUID: String, netns: Int32, hostPorts: [HostPortMapping]) throws -> PodNetworkStatus {
        try state.withLock { state in
            let bridge = try bridgeIndex(&state)
            let (address, fresh) = try state.allocator.allocate(podUID: podUID)
            do {
                let rules = try hostPorts.compactMap { try HostPortRule($0, podIP: address) }
                try plumb(podUID: podUID, netns: netns, address: address, bridge: bridge, state)
                try publish(podUID: podUID, rules: rules, state)
            } catch {
                // A pod seen for the first time leaves nothing behind; one set up before keeps
                // what it had (its containers may be running on it).
                if fresh {
                    _ = try? state.node.performEach([.deleteLink(name: Self.hostVethName(podUID: podUID))])
                    try? state.allocator.release(podUID: podUID)
                }
                throw error
            }
            return PodNetworkStatus(ips: [address.description], gateway: gateway.description, interface: Self.podInterface)
        }
    }

    /// See `PodNetwork.tearDown`: veth, hostPort elements and record, then the address.
    public func tearDown(podUID: String) throws {
        try state.withLock { state in
            // The veth first: the address is only free once nothing can use it. Deleting our
            // end deletes eth0 too; the pod's namespace may already be gone (ENODEV).
            let veth = Self.hostVethName(podUID: podUID)
            if case .failure(let error) = try state.node.performEach([.deleteLink(name: veth)])[0], error.errno != ENODEV {
                throw error
            }
            try unpublish(podUID: podUID, state)
            try state.allocator.release(podUID: podUID)
        }
    }

    /// See `PodNetwork.allocations`: read from the state directory, so it reflects disk.
    public func allocations() throws -> [String: String] {
        try state.withLock { state in
            try state.allocator.scan().reduce(into: [:]) { $0[$1.value] = $1.key.description }
        }
    }

    /// The veth pair, eth0's address, lo and eth0 up, the default route. Safe to repeat.
    private func plumb(podUID: String, netns: Int32, address: IPv4Address, bridge: Int32, _ state: State) throws {
        let veth = Self.hostVethName(podUID: podUID)
        let pod = RouteNetlink(socket: try RouteSocket(netns: netns, owner: "pod \(podUID)"))
        let create = RouteRequest.createVeth(name: veth, peer: Self.podInterface, peerNetns: netns, master: bridge,
                                             mtu: config.mtu, up: true)
        switch try state.node.performEach([create])[0] {
        case .success:
            break
        case .failure(let error) where error.errno == EEXIST:
            if try pod.link(named: Self.podInterface) != nil {
                // Set up before (an agent restart): make sure our end is on the bridge and up.
                let repair = RouteRequest.setLink(LinkChange(name: veth, up: true, master: bridge, mtu: config.mtu))
                if case .failure(let failure) = try state.node.performEach([repair])[0] {
                    guard failure.errno == ENODEV else { throw failure }
                    throw NetworkError.invalid(
                        "pod \(podUID): its network namespace already has an \(Self.podInterface) that is not this node's veth \(veth)")
                }
            } else {
                // Our name is taken by a leftover whose pod side is elsewhere (an old sandbox).
                if case .failure(let failure) = try state.node.performEach([.deleteLink(name: veth)])[0],
                   failure.errno != ENODEV {
                    throw failure
                }
                try state.node.perform([create])
            }
        case .failure(let error):
            throw error
        }
        // Hairpin mode on our port (kubelet's --hairpin-mode=hairpin-veth, the CNI bridge
        // plugin's hairpinMode): a pod reaching itself through a Service has its packet DNATed
        // back to its own address, which the bridge (with br_netfilter) must send out of the
        // port it came in on.
        try state.node.perform([.setLink(LinkChange(name: veth, hairpin: true))])
        guard let eth0 = try pod.link(named: Self.podInterface) else {
            throw NetworkError.invalid("pod \(podUID): \(Self.podInterface) is missing from its namespace right after it was created")
        }
        // One datagram, handled in order: the address needs eth0 up for its subnet route, the
        // default route needs that subnet route to reach the gateway.
        try pod.perform([
            .setLink(LinkChange(name: "lo", up: true)),
            .setLink(LinkChange(index: eth0.index, up: true)),
            .replaceAddress(index: eth0.index, address: address, prefixLength: podSubnet.prefixLength),
            .replaceRoute(Route(destination: Route.defaultDestination, gateway: gateway, outputInterface: eth0.index)),
        ])
    }

    private func hostPortRecord(_ podUID: String) -> String { "\(config.stateDirectory)/hostports/\(podUID)" }

    private func recordedRules(_ podUID: String) -> [HostPortRule] {
        guard let text = StateFiles.read(hostPortRecord(podUID)) else { return [] }
        return text.split(separator: "\n").compactMap { HostPortRule(line: String($0)) }
    }

    /// Makes the pod's hostPorts exactly `rules` (replacing what an earlier setUp published)
    /// and records them for teardown once nft has taken them.
    private func publish(podUID: String, rules: [HostPortRule], _ state: State) throws {
        let old = recordedRules(podUID)
        if old.isEmpty && rules.isEmpty { return }
        do {
            try state.nft.run(NodeRuleset.remove(old) + NodeRuleset.add(rules), what: "add hostPorts of pod \(podUID)")
        } catch NetworkError.nftables(let what, let text) where text.contains("File exists") {
            let ports = rules.map { "\($0.hostPort)/\($0.proto.uppercased())" }.joined(separator: ", ")
            throw NetworkError.nftables(
                what: what, text: "hostPort \(ports): already published by another pod on this node\n" + text)
        }
        if rules.isEmpty {
            try StateFiles.remove(hostPortRecord(podUID))
        } else {
            try StateFiles.makeDirectory(config.stateDirectory + "/hostports")
            try StateFiles.replace(hostPortRecord(podUID), rules.map { $0.line + "\n" }.joined())
        }
    }

    private func unpublish(podUID: String, _ state: State) throws {
        let old = recordedRules(podUID)
        if !old.isEmpty {
            try state.nft.run(NodeRuleset.remove(old), what: "delete hostPorts of pod \(podUID)")
        }
        try StateFiles.remove(hostPortRecord(podUID))
    }
}
