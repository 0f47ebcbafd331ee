import KubeAPI
import NodeNetwork

/// What the proxy makes of a Service from the API. The API server validates Services too, but
/// the agent must not trust what it reads: a value that cannot be programmed safely rejects
/// the whole Service with a reason, and nothing of it reaches nftables.
enum ServiceVerdict: Equatable {
    /// Programmed as described.
    case proxied(ServiceInfo)
    /// Not the proxy's business (headless, ExternalName, no cluster IP yet, IPv6): any earlier
    /// programming of the service is removed.
    case ignored(String)
    /// Impossible values: the reason is logged and earlier programming is kept unchanged.
    case rejected(String)
}

enum ServiceValidation {
    /// More ports than any real Service has; a Service with thousands would make one update
    /// rewrite thousands of chains. Kubernetes sets no number; this is ours.
    static let maxPorts = 256
    /// kube-proxy's default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours) and the
    /// API's upper bound (a day).
    static let defaultAffinityTimeout = 10800
    static let maxAffinityTimeout = 86400

    /// The name the Service is known by, when it has a usable one.
    static func name(of service: Service) -> Result<ServiceName, ValidationFailure> {
        guard let name = service.metadata.name, !name.isEmpty else { return .failure(.init("metadata.name: missing")) }
        guard let namespace = service.metadata.namespace, !namespace.isEmpty else {
            return .failure(.init("metadata.namespace: missing"))
        }
        if let error = KubernetesNames.dns1035LabelErrors(name).first {
            return .failure(.init("metadata.name \(quoted(name)): \(error)"))
        }
        if let error = KubernetesNames.dns1123LabelErrors(namespace).first {
            return .failure(.init("metadata.namespace \(quoted(namespace)): \(error)"))
        }
        return .success(ServiceName(namespace: namespace, name: name))
    }

    static func validate(_ service: Service, as serviceName: ServiceName, serviceCIDR: IPv4Subnet) -> ServiceVerdict {
        let spec = service.spec
        let type = spec.type ?? "ClusterIP"
        switch type {
        case "ClusterIP", "NodePort", "LoadBalancer": break
        case "ExternalName": return .ignored("type ExternalName is answered by DNS, not proxied")
        default: return .rejected("spec.type \(quoted(type)): must be ClusterIP, NodePort, LoadBalancer or ExternalName")
        }
        guard let clusterIPText = spec.clusterIP, !clusterIPText.isEmpty else {
            return .ignored("no cluster IP allocated yet")
        }
        if spec.isHeadless { return .ignored("headless (clusterIP: None): DNS answers with the endpoints") }
        guard let clusterIP = IPv4Address(clusterIPText) else {
            if clusterIPText.contains(":") && clusterIPText.utf8.count <= 45 {
                return .ignored("IPv6 cluster IP: this proxy programs IPv4 only")
            }
            return .rejected("spec.clusterIP \(quoted(clusterIPText)): not an IPv4 address")
        }
        guard serviceCIDR.contains(clusterIP) else {
            return .rejected("spec.clusterIP \(clusterIP): outside the service CIDR \(serviceCIDR)")
        }
        if let first = spec.clusterIPs?.first, first != clusterIPText {
            return .rejected("spec.clusterIPs[0] \(quoted(first)): must equal spec.clusterIP \(clusterIP)")
        }

        let ports: [ServicePortInfo]
        switch validatePorts(spec.ports ?? [], nodePortsAllowed: type != "ClusterIP") {
        case .success(let valid): ports = valid
        case .failure(let failure): return .rejected(failure.reason)
        }

        var affinityTimeout: Int?
        switch spec.sessionAffinity ?? "None" {
        case "None": break
        case "ClientIP":
            let timeout = Int(spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? Int32(defaultAffinityTimeout))
            guard (1...maxAffinityTimeout).contains(timeout) else {
                return .rejected("spec.sessionAffinityConfig.clientIP.timeoutSeconds \(timeout): must be between 1 and \(maxAffinityTimeout)")
            }
            affinityTimeout = timeout
        case let other:
            return .rejected("spec.sessionAffinity \(quoted(other)): must be None or ClientIP")
        }

        var policies: [Bool] = []
        for (field, value) in [("externalTrafficPolicy", spec.externalTrafficPolicy), ("internalTrafficPolicy", spec.internalTrafficPolicy)] {
            switch value ?? "Cluster" {
            case "Cluster": policies.append(false)
            case "Local": policies.append(true)
            case let other: return .rejected("spec.\(field) \(quoted(other)): must be Cluster or Local")
            }
        }
        let external: (all: [IPv4Address], loadBalancer: [IPv4Address])
        switch externalAddresses(service, type: type, serviceCIDR: serviceCIDR) {
        case .success(let addresses): external = addresses
        case .failure(let failure): return .rejected(failure.reason)
        }
        let ranges: [IPv4Subnet]
        switch sourceRanges(service, type: type) {
        case .success(let parsed): ranges = parsed
        case .failure(let failure): return .rejected(failure.reason)
        }
        return .proxied(ServiceInfo(service: serviceName, clusterIP: clusterIP, ports: ports, affinityTimeout: affinityTimeout,
                                    externalPolicyLocal: policies[0] && (type != "ClusterIP" || !external.all.isEmpty),
                                    internalPolicyLocal: policies[1], externalAddresses: external.all,
                                    loadBalancerAddresses: external.loadBalancer, sourceRanges: ranges))
    }

    /// More source ranges than a service needs; each one is a rule of its firewall chain.
    static let maxSourceRanges = 256

    /// `spec.loadBalancerSourceRanges` of a LoadBalancer, IPv4 ones (the API validated them as
    /// CIDRs). A list of IPv6 ranges only lets no IPv4 client in: the user restricted access,
    /// and this proxy must not read "none of mine" as "everyone" (a `0.0.0.0/0` range opens it).
    private static func sourceRanges(_ service: Service, type: String) -> Result<[IPv4Subnet], ValidationFailure> {
        guard type == "LoadBalancer", let texts = service.spec.loadBalancerSourceRanges, !texts.isEmpty else { return .success([]) }
        guard texts.count <= maxSourceRanges else {
            return .failure(.init("spec.loadBalancerSourceRanges: \(texts.count) ranges, more than the \(maxSourceRanges) this proxy accepts"))
        }
        var ranges: [IPv4Subnet] = []
        for (index, raw) in texts.enumerated() {
            // kube-proxy trims spaces; a range written with a host address (`10.0.0.5/8`) means
            // its network, as Go's ParseCIDR reads it.
            let text = raw.trimmingSpaces
            if let range = IPv4Subnet(text, hostBitsAllowed: true) {
                if !ranges.contains(range) { ranges.append(range) }
            } else if text.contains(":"), text.utf8.count <= 50 {
                continue
            } else {
                return .failure(.init("spec.loadBalancerSourceRanges[\(index)] \(quoted(raw)): not a CIDR"))
            }
        }
        // Only IPv6 ranges: the prefix-32 range of an address no packet has keeps IPv4 out.
        return .success(ranges.isEmpty ? [IPv4Subnet(network: IPv4Address(0), prefixLength: 32)] : ranges)
    }

    /// More external and load-balancer addresses than a service needs; each one adds a map
    /// element per port. Kubernetes sets no number; this is ours (a LoadBalancer has one per node).
    static let maxExternalAddresses = 256

    /// `spec.externalIPs` and the VIP-mode IPs of a LoadBalancer's `status.loadBalancer.ingress`,
    /// each once. A garbled address rejects the service (the API validates both, so it is not
    /// from the API server); IPv6 and hostname-only entries are skipped as the IPv4 proxy
    /// cannot program them, and an address inside the service CIDR would hijack cluster IPs.
    private static func externalAddresses(_ service: Service, type: String,
                                          serviceCIDR: IPv4Subnet) -> Result<(all: [IPv4Address], loadBalancer: [IPv4Address]), ValidationFailure> {
        var texts = (service.spec.externalIPs ?? []).enumerated().map { ("spec.externalIPs[\($0.offset)]", $0.element, false) }
        if type == "LoadBalancer" {
            for (index, entry) in (service.status?.loadBalancer?.ingress ?? []).enumerated() where entry.ipMode != "Proxy" {
                if let ip = entry.ip, !ip.isEmpty { texts.append(("status.loadBalancer.ingress[\(index)].ip", ip, true)) }
            }
        }
        guard texts.count <= maxExternalAddresses else {
            return .failure(.init("\(texts.count) external and load-balancer addresses, more than the \(maxExternalAddresses) this proxy accepts"))
        }
        var addresses: [IPv4Address] = [], loadBalancer: [IPv4Address] = []
        for (field, text, isLoadBalancer) in texts {
            guard let address = IPv4Address(text) else {
                if text.contains(":") && text.utf8.count <= 45 { continue }
                return .failure(.init("\(field) \(quoted(text)): not an IP address"))
            }
            guard !serviceCIDR.contains(address) else {
                return .failure(.init("\(field) \(address): inside the service CIDR \(serviceCIDR)"))
            }
            if !addresses.contains(address) { addresses.append(address) }
            if isLoadBalancer, !loadBalancer.contains(address) { loadBalancer.append(address) }
        }
        return .success((addresses, loadBalancer))
    }

    private static func validatePorts(_ ports: [ServicePort], nodePortsAllowed: Bool) -> Result<[ServicePortInfo], ValidationFailure> {
        guard !ports.isEmpty else { return .failure(.init("spec.ports: a proxied service needs at least one port")) }
        guard ports.count <= maxPorts else {
            return .failure(.init("spec.ports: \(ports.count) ports, more than the \(maxPorts) this proxy accepts"))
        }
        var result: [ServicePortInfo] = []
        var names = Set<String>(), numbers = Set<[Int32]>(), nodePorts = Set<[Int32]>()
        for (index, port) in ports.enumerated() {
            let field = "spec.ports[\(index)]"
            let name = port.name ?? ""
            if name.isEmpty {
                if ports.count > 1 { return .failure(.init("\(field).name: required when a service has more than one port")) }
            } else if let error = KubernetesNames.dns1123LabelErrors(name).first {
                return .failure(.init("\(field).name \(quoted(name)): \(error)"))
            }
            guard names.insert(name).inserted else { return .failure(.init("\(field).name \(quoted(name)): duplicate")) }
            guard let proto = L4Protocol(rawValue: port.protocol ?? "TCP") else {
                return .failure(.init("\(field).protocol \(quoted(port.protocol ?? "")): must be TCP, UDP or SCTP"))
            }
            guard (1...65535).contains(port.port) else {
                return .failure(.init("\(field).port \(port.port): must be between 1 and 65535, inclusive"))
            }
            guard numbers.insert([Int32(proto.number), port.port]).inserted else {
                return .failure(.init("\(field): port \(port.port)/\(proto.rawValue) is listed twice"))
            }
            var nodePort: UInt16?
            if let value = port.nodePort, value != 0 {
                guard nodePortsAllowed else {
                    return .failure(.init("\(field).nodePort \(value): only NodePort and LoadBalancer services have node ports"))
                }
                guard (1...65535).contains(value) else {
                    return .failure(.init("\(field).nodePort \(value): must be between 1 and 65535, inclusive"))
                }
                guard nodePorts.insert([Int32(proto.number), value]).inserted else {
                    return .failure(.init("\(field).nodePort \(value)/\(proto.rawValue): used twice"))
                }
                nodePort = UInt16(value)
            }
            result.append(ServicePortInfo(name: name, proto: proto, port: UInt16(port.port), nodePort: nodePort))
        }
        return .success(result)
    }

    /// A value from the API as it may appear in a log line: quoted, escaped, at most 64
    /// characters, so hostile input cannot forge log lines or flood them.
    static func quoted(_ value: String) -> String {
        var text = ""
        for scalar in value.unicodeScalars.prefix(64) {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f || !scalar.isASCII:
                text += "\\u{\(String(scalar.value, radix: 16))}"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return "\"" + text + (value.unicodeScalars.count > 64 ? "\"..." : "\"")
    }
}

/// Why an object was refused, worded for a log line.
struct ValidationFailure: Error, Equatable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
