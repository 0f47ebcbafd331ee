import KubeAPI

/// The predicates kube-apiserver's service code asks of a Service (pkg/api/service/util.go,
/// pkg/registry/core/service/storage/alloc.go), and the defaults and rewrites it applies before
/// allocating and validating: `SetDefaults_Service` (pkg/apis/core/v1/defaults.go),
/// `NormalizeClusterIPs`, `patchAllocatedValues` and `dropTypeDependentFields`
/// (pkg/registry/core/service/strategy.go and storage.go).
enum ServiceRules {
    static let clientIPAffinityDefaultSeconds: Int32 = 10800
    static let clientIPAffinityMaxSeconds: Int32 = 86400

    static func type(_ spec: ServiceSpec) -> String { spec.type ?? "" }

    /// Every type but ExternalName has a cluster IP (or "None").
    static func needsClusterIP(_ spec: ServiceSpec) -> Bool { type(spec) != "ExternalName" }

    static func needsNodePort(_ spec: ServiceSpec) -> Bool { type(spec) == "NodePort" || type(spec) == "LoadBalancer" }

    /// Reachable from outside the cluster: node ports, load balancers, or external IPs.
    static func externallyAccessible(_ spec: ServiceSpec) -> Bool {
        needsNodePort(spec) || (type(spec) == "ClusterIP" && !(spec.externalIPs ?? []).isEmpty)
    }

    /// A LoadBalancer with `externalTrafficPolicy: Local` gets a health-check node port.
    static func needsHealthCheck(_ spec: ServiceSpec) -> Bool {
        type(spec) == "LoadBalancer" && spec.externalTrafficPolicy == "Local"
    }

    /// NodePort services always get node ports; LoadBalancers unless
    /// `allocateLoadBalancerNodePorts: false`.
    static func shouldAllocateNodePorts(_ spec: ServiceSpec) -> Bool {
        switch type(spec) {
        case "NodePort": return true
        case "LoadBalancer": return spec.allocateLoadBalancerNodePorts ?? true
        default: return false
        }
    }

    /// `clusterIPs: ["None"]`.
    static func isHeadless(_ spec: ServiceSpec) -> Bool { spec.clusterIPs == ["None"] }

    static func hasSelector(_ spec: ServiceSpec) -> Bool { !(spec.selector ?? [:]).isEmpty }

    /// The cluster addresses the Service holds in the allocator.
    static func heldIPs(_ spec: ServiceSpec) -> [String] {
        var addresses = spec.clusterIPs ?? []
        if let single = spec.clusterIP, !addresses.contains(single) { addresses.append(single) }
        return addresses.filter { !$0.isEmpty && $0 != "None" }
    }

    /// The node ports the Service holds: its ports' (a number shared by two ports counts once)
    /// and the health-check node port.
    static func heldNodePorts(_ spec: ServiceSpec) -> [Int64] {
        var ports: [Int64] = []
        for number in (spec.ports ?? []).compactMap(\.nodePort) + [spec.healthCheckNodePort ?? 0] where number != 0 {
            if !ports.contains(Int64(number)) { ports.append(Int64(number)) }
        }
        return ports
    }

    // MARK: - Defaults

    /// `SetDefaults_Service`: what decoding a v1 Service fills in.
    static func applyDefaults(_ spec: inout ServiceSpec) {
        if (spec.sessionAffinity ?? "").isEmpty { spec.sessionAffinity = "None" }
        if spec.sessionAffinity == "None" { spec.sessionAffinityConfig = nil }
        if spec.sessionAffinity == "ClientIP", spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == nil {
            spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: clientIPAffinityDefaultSeconds))
        }
        if (spec.type ?? "").isEmpty { spec.type = "ClusterIP" }
        if var ports = spec.ports {
            for index in ports.indices {
                if (ports[index].protocol ?? "").isEmpty { ports[index].protocol = "TCP" }
                switch ports[index].targetPort {
                case nil, .int(0), .string(""): ports[index].targetPort = .int(ports[index].port)
                default: break
                }
            }
            spec.ports = ports
        }
        if externallyAccessible(spec), (spec.externalTrafficPolicy ?? "").isEmpty {
            spec.externalTrafficPolicy = "Cluster"
        }
        if spec.internalTrafficPolicy == nil, ["NodePort", "LoadBalancer", "ClusterIP"].contains(type(spec)) {
            spec.internalTrafficPolicy = "Cluster"
        }
        if type(spec) == "LoadBalancer", spec.allocateLoadBalancerNodePorts == nil {
            spec.allocateLoadBalancerNodePorts = true
        }
    }

    // MARK: - Rewrites before allocation

    /// `NormalizeClusterIPs`: keeps `clusterIP` and `clusterIPs` in step for clients that set
    /// only the singular field (`old` is nil on create).
    static func normalizeClusterIPs(_ spec: inout ServiceSpec, old: ServiceSpec?) {
        let clusterIP = spec.clusterIP ?? ""
        let clusterIPs = spec.clusterIPs ?? []
        guard let old else {
            if !clusterIP.isEmpty, clusterIPs.isEmpty { spec.clusterIPs = [clusterIP] }
            return
        }
        let oldIP = old.clusterIP ?? ""
        // An old client patching something else and leaving `clusterIPs` out.
        if !(old.clusterIPs ?? []).isEmpty, clusterIPs.isEmpty, oldIP == clusterIP {
            spec.clusterIPs = old.clusterIPs
        }
        if oldIP != clusterIP {
            let sameIPs = (spec.clusterIPs ?? []) == (old.clusterIPs ?? [])
            if !oldIP.isEmpty, clusterIP.isEmpty {
                if sameIPs { spec.clusterIPs = nil }
            } else if sameIPs {
                spec.clusterIPs = [clusterIP]
            }
        }
    }

    /// `patchAllocatedValues`: a client that re-submits what it created (no cluster IP, no node
    /// ports: `kubectl apply`, `replace`) keeps what was allocated for it.
    static func patchAllocatedValues(_ spec: inout ServiceSpec, old: ServiceSpec) {
        if needsClusterIP(old), needsClusterIP(spec) {
            if (spec.clusterIP ?? "").isEmpty { spec.clusterIP = old.clusterIP }
            if (spec.clusterIPs ?? []).isEmpty, !(old.clusterIPs ?? []).isEmpty { spec.clusterIPs = old.clusterIPs }
        }
        if needsNodePort(old), needsNodePort(spec), var ports = spec.ports {
            let usedOld = Set((old.ports ?? []).compactMap(\.nodePort).filter { $0 != 0 })
            let usedNew = Set(ports.compactMap(\.nodePort).filter { $0 != 0 })
            let taken = usedOld.intersection(usedNew)
            // Matched by port name: the client may have changed anything else about the port.
            var byName: [String: Int32] = [:]
            for port in old.ports ?? [] { byName[port.name ?? ""] = port.nodePort ?? 0 }
            for index in ports.indices where (ports[index].nodePort ?? 0) == 0 {
                if let previous = byName[ports[index].name ?? ""], previous != 0, !taken.contains(previous) {
                    ports[index].nodePort = previous
                }
            }
            spec.ports = ports
        }
        if needsHealthCheck(old), needsHealthCheck(spec), (spec.healthCheckNodePort ?? 0) == 0 {
            spec.healthCheckNodePort = old.healthCheckNodePort
        }
    }

    /// `dropTypeDependentFields`: switching to a type that does not use a field clears it when
    /// the client left it as it was (it was allocated or defaulted, not asked for).
    static func dropTypeDependentFields(_ spec: inout ServiceSpec, old: ServiceSpec) {
        if needsClusterIP(old), !needsClusterIP(spec) {
            if (spec.clusterIP ?? "") == (old.clusterIP ?? ""), (spec.clusterIPs ?? []) == (old.clusterIPs ?? []) {
                spec.clusterIP = nil
                spec.clusterIPs = nil
            }
            if (spec.ipFamilies ?? []) == (old.ipFamilies ?? []) { spec.ipFamilies = nil }
            if spec.ipFamilyPolicy == old.ipFamilyPolicy { spec.ipFamilyPolicy = nil }
        }
        if needsNodePort(old), !needsNodePort(spec), nodePorts(spec) == nodePorts(old), var ports = spec.ports {
            for index in ports.indices { ports[index].nodePort = nil }
            spec.ports = ports
        }
        if needsHealthCheck(old), !needsHealthCheck(spec), spec.healthCheckNodePort == old.healthCheckNodePort {
            spec.healthCheckNodePort = nil
        }
        if old.type == "LoadBalancer", spec.type != "LoadBalancer" {
            if spec.allocateLoadBalancerNodePorts != nil, spec.allocateLoadBalancerNodePorts == old.allocateLoadBalancerNodePorts {
                spec.allocateLoadBalancerNodePorts = nil
            }
            if spec.loadBalancerClass != nil, spec.loadBalancerClass == old.loadBalancerClass {
                spec.loadBalancerClass = nil
            }
        }
        if externallyAccessible(old), !externallyAccessible(spec), spec.externalTrafficPolicy == old.externalTrafficPolicy {
            spec.externalTrafficPolicy = nil
        }
    }

    /// The ports' node port numbers in order (0 for none), for "did the client change them".
    private static func nodePorts(_ spec: ServiceSpec) -> [Int32] {
        (spec.ports ?? []).map { $0.nodePort ?? 0 }
    }
}
