import KubeAPI
import NodeNetwork

/// What the proxy makes of an EndpointSlice from the API.
enum SliceVerdict: Equatable {
    case accepted(SliceInfo)
    /// Not for this proxy (IPv6 or FQDN addresses, no service label): contributes nothing.
    case ignored(String)
    /// Garbage: logged, and the slice's previous valid version (if any) stays in use.
    case rejected(String)
}

enum SliceValidation {
    /// The API's own limits (discovery/v1 validation: maxEndpoints, maxPorts, maxAddresses).
    static let maxEndpoints = 1000
    static let maxPorts = 100
    static let maxAddresses = 100

    static func name(of slice: EndpointSlice) -> Result<SliceName, ValidationFailure> {
        guard let name = slice.metadata.name, !name.isEmpty else { return .failure(.init("metadata.name: missing")) }
        guard let namespace = slice.metadata.namespace, !namespace.isEmpty else {
            return .failure(.init("metadata.namespace: missing"))
        }
        if let error = KubernetesNames.dns1123SubdomainErrors(name).first {
            return .failure(.init("metadata.name \(ServiceValidation.quoted(name)): \(error)"))
        }
        if let error = KubernetesNames.dns1123LabelErrors(namespace).first {
            return .failure(.init("metadata.namespace \(ServiceValidation.quoted(namespace)): \(error)"))
        }
        return .success(SliceName(namespace: namespace, name: name))
    }

    static func validate(_ slice: EndpointSlice, as sliceName: SliceName, serviceCIDR: IPv4Subnet) -> SliceVerdict {
        guard let serviceLabel = slice.serviceName else {
            return .ignored("no \(EndpointSlice.serviceNameLabel) label: belongs to no service")
        }
        if let error = KubernetesNames.dns1035LabelErrors(serviceLabel).first {
            return .rejected("label \(EndpointSlice.serviceNameLabel) \(ServiceValidation.quoted(serviceLabel)): \(error)")
        }
        switch slice.addressType {
        case "IPv4": break
        case "IPv6", "FQDN": return .ignored("addressType \(slice.addressType): this proxy programs IPv4 only")
        default: return .rejected("addressType \(ServiceValidation.quoted(slice.addressType)): must be IPv4, IPv6 or FQDN")
        }
        guard slice.endpoints.count <= maxEndpoints else {
            return .rejected("endpoints: \(slice.endpoints.count), more than the API's \(maxEndpoints) per slice")
        }
        let rawPorts = slice.ports ?? []
        guard rawPorts.count <= maxPorts else {
            return .rejected("ports: \(rawPorts.count), more than the API's \(maxPorts) per slice")
        }

        var ports: [SliceInfo.Port] = []
        var seen = Set<String>()
        for (index, port) in rawPorts.enumerated() {
            let field = "ports[\(index)]"
            let name = port.name ?? ""
            if !name.isEmpty, let error = KubernetesNames.dns1123LabelErrors(name).first {
                return .rejected("\(field).name \(ServiceValidation.quoted(name)): \(error)")
            }
            guard let proto = L4Protocol(rawValue: port.protocol ?? "TCP") else {
                return .rejected("\(field).protocol \(ServiceValidation.quoted(port.protocol ?? "")): must be TCP, UDP or SCTP")
            }
            guard seen.insert("\(name)/\(proto.rawValue)").inserted else {
                return .rejected("\(field): port name \(ServiceValidation.quoted(name)) with \(proto.rawValue) is listed twice")
            }
            // Unset means "all ports", which a DNAT cannot express; kube-proxy skips such ports too.
            guard let number = port.port else { continue }
            guard (1...65535).contains(number) else {
                return .rejected("\(field).port \(number): must be between 1 and 65535, inclusive")
            }
            ports.append(SliceInfo.Port(name: name, proto: proto, port: UInt16(number)))
        }

        var endpoints: [SliceInfo.Endpoint] = []
        for (index, endpoint) in slice.endpoints.enumerated() {
            let field = "endpoints[\(index)]"
            guard let first = endpoint.addresses.first else { return .rejected("\(field).addresses: empty") }
            guard endpoint.addresses.count <= maxAddresses else {
                return .rejected("\(field).addresses: \(endpoint.addresses.count), more than \(maxAddresses)")
            }
            // kube-proxy uses the first address only (the others are equivalent by API contract).
            guard let address = IPv4Address(first) else {
                return .rejected("\(field).addresses[0] \(ServiceValidation.quoted(first)): not an IPv4 address")
            }
            if let problem = unusableEndpointAddress(address, serviceCIDR: serviceCIDR) {
                return .rejected("\(field).addresses[0] \(address): \(problem)")
            }
            if let node = endpoint.nodeName, let error = KubernetesNames.dns1123SubdomainErrors(node).first {
                return .rejected("\(field).nodeName \(ServiceValidation.quoted(node)): \(error)")
            }
            endpoints.append(SliceInfo.Endpoint(address: address, ready: endpoint.isReady, serving: endpoint.isServing,
                                                terminating: endpoint.isTerminating, nodeName: endpoint.nodeName))
        }
        return .accepted(SliceInfo(service: ServiceName(namespace: sliceName.namespace, name: serviceLabel),
                                   ports: ports, endpoints: endpoints))
    }

    /// Addresses a DNAT must never point at: Kubernetes' endpoint IP rules
    /// (validation.ValidateEndpointIP: unspecified, loopback, link-local, multicast) plus the
    /// service range itself, which would loop through the proxy again.
    static func unusableEndpointAddress(_ address: IPv4Address, serviceCIDR: IPv4Subnet) -> String? {
        let special: [(String, String)] = [
            ("0.0.0.0/8", "unspecified (0.0.0.0/8)"), ("127.0.0.0/8", "loopback"),
            ("169.254.0.0/16", "link-local"), ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"),
        ]
        for (cidr, what) in special where IPv4Subnet(cidr)?.contains(address) == true {
            return "\(what) addresses cannot be endpoints"
        }
        if serviceCIDR.contains(address) { return "inside the service CIDR \(serviceCIDR)" }
        return nil
    }
}
