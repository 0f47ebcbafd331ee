import APIMachinery
import KubeAPI

/// core/v1 Endpoints, the older form of a Service's backends that `kubectl get ep` and
/// `describe svc` on kubectl 1.20 read (pkg/registry/core/endpoint, `ValidateEndpoints`):
/// decoded strictly, port protocols defaulted to TCP, addresses, ports and names validated
/// with Kubernetes' messages.
struct EndpointsStrategy: ResourceStrategy {
    var validatesMetadata: Bool { true }

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        try prepare(&object, context: context)
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        try prepare(&object, context: context)
    }

    private func prepare(_ object: inout KubeObject, context: StrategyContext) throws(APIError) -> [String] {
        var (endpoints, warnings) = try TypedCodec.decode(EndpointsObject.self, from: object.json, kind: "Endpoints", version: "v1",
                                                         validation: context.fieldValidation)
        if var subsets = endpoints.subsets {
            for index in subsets.indices {
                guard var ports = subsets[index].ports else { continue }
                for port in ports.indices where (ports[port].protocol ?? "").isEmpty { ports[port].protocol = "TCP" }
                subsets[index].ports = ports
            }
            endpoints.subsets = subsets
        }
        let errors = ObjectValidation.validateMetadata(endpoints.metadata, namespaced: true, nameRule: .dns1123Subdomain)
            + Self.validate(endpoints.subsets ?? [])
        guard errors.isEmpty else {
            throw APIError.invalid(kind: "Endpoints", group: "", name: endpoints.metadata.name ?? "", errors: errors)
        }
        object = KubeObject(fields: try TypedCodec.encode(endpoints).objectValue ?? [:])
        return warnings
    }

    /// `validateEndpointSubsets`.
    static func validate(_ subsets: [EndpointsObject.Subset]) -> [ValidationError] {
        var errors: [ValidationError] = []
        for (index, subset) in subsets.enumerated() {
            let path = "subsets[\(index)]"
            let addresses = subset.addresses ?? [], notReady = subset.notReadyAddresses ?? []
            if addresses.isEmpty, notReady.isEmpty {
                errors.append(ValidationError(type: .required, field: path, detail: "must specify `addresses` or `notReadyAddresses`"))
            }
            for (position, address) in addresses.enumerated() {
                errors += validate(address, path: "\(path).addresses[\(position)]")
            }
            for (position, address) in notReady.enumerated() {
                errors += validate(address, path: "\(path).notReadyAddresses[\(position)]")
            }
            let ports = subset.ports ?? []
            for (position, port) in ports.enumerated() {
                errors += validate(port, requireName: ports.count > 1, path: "\(path).ports[\(position)]")
            }
        }
        return errors
    }

    /// `validateEndpointAddress`: a valid, non-special IP; a DNS label hostname; a node name.
    private static func validate(_ address: EndpointsObject.Address, path: String) -> [ValidationError] {
        var errors: [ValidationError] = []
        let ipPath = path + ".ip"
        if !NameRules.isIPAddress(address.ip) {
            errors.append(ServiceValidation.invalid(ipPath, .string(address.ip), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
        }
        if let hostname = address.hostname, !hostname.isEmpty {
            errors += NameRules.dns1123Label(hostname).map { ServiceValidation.invalid(path + ".hostname", .string(hostname), $0) }
        }
        if let node = address.nodeName {
            errors += NameRules.dns1123Subdomain(node).map { ServiceValidation.invalid(path + ".nodeName", .string(node), $0) }
        }
        if NameRules.isIPAddress(address.ip) {
            errors += ServiceValidation.nonSpecialIPErrors(address.ip, path: ipPath)
        } else {
            errors.append(ServiceValidation.invalid(ipPath, .string(address.ip), "must be a valid IP address"))
        }
        return errors
    }

    /// `validateEndpointPort`.
    private static func validate(_ port: EndpointsObject.Port, requireName: Bool, path: String) -> [ValidationError] {
        var errors: [ValidationError] = []
        let name = port.name ?? ""
        if requireName, name.isEmpty {
            errors.append(ValidationError(type: .required, field: path + ".name"))
        } else if !name.isEmpty {
            errors += NameRules.dns1123Label(name).map { ServiceValidation.invalid(path + ".name", .string(name), $0) }
        }
        errors += NameRules.portNumber(Int64(port.port)).map { ServiceValidation.invalid(path + ".port", .int(Int64(port.port)), $0) }
        let proto = port.protocol ?? ""
        if proto.isEmpty {
            errors.append(ValidationError(type: .required, field: path + ".protocol"))
        } else if !ServiceValidation.supportedProtocols.contains(proto) {
            errors.append(ServiceValidation.notSupported(path + ".protocol", proto, ServiceValidation.supportedProtocols))
        }
        if let appProtocol = port.appProtocol {
            errors += NameRules.qualifiedName(appProtocol).map { ServiceValidation.invalid(path + ".appProtocol", .string(appProtocol), $0) }
        }
        return errors
    }
}

/// A core/v1 `Endpoints` as the server decodes it (k8s.io/api/core/v1 types.go): only the
/// registry needs this form, the agents read EndpointSlices.
struct EndpointsObject: Codable, Sendable {
    var apiVersion: String?
    var kind: String?
    var metadata: ObjectMeta
    var subsets: [Subset]?

    struct Subset: Codable, Sendable {
        var addresses: [Address]?
        var notReadyAddresses: [Address]?
        var ports: [Port]?
    }

    struct Address: Codable, Sendable {
        var ip: String
        var hostname: String?
        var nodeName: String?
        var targetRef: ObjectReference?
    }

    struct Port: Codable, Sendable {
        var name: String?
        var port: Int32
        var `protocol`: String?
        var appProtocol: String?
    }
}
