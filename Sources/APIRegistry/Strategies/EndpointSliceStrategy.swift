import APIMachinery
import KubeAPI

/// `discovery.k8s.io/v1` EndpointSlices (pkg/registry/discovery/endpointslice/strategy.go and
/// pkg/apis/discovery/validation): decoded strictly into `KubeAPI.EndpointSlice`, ports
/// defaulted (name "", protocol TCP), validated with Kubernetes' limits and messages,
/// `addressType` immutable, and `metadata.generation` bumped when anything but metadata (or
/// the labels) changes. Every node's service proxy and DNS read these, so what they get is
/// checked here rather than trusted.
struct EndpointSliceStrategy: ResourceStrategy {
    static let supportedAddressTypes = ["FQDN", "IPv4", "IPv6"]
    static let maxEndpoints = 1000
    static let maxAddresses = 100
    static let maxPorts = 20000

    var validatesMetadata: Bool { true }

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (slice, warnings) = try decode(object, context: context)
        let errors = Self.validate(slice)
        guard errors.isEmpty else { throw Self.invalid(slice, errors) }
        object = KubeObject(fields: try TypedCodec.encode(slice).objectValue ?? [:])
        object.generation = 1
        return warnings
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (slice, warnings) = try decode(object, context: context)
        var errors = Self.validate(slice)
        let oldType = old.fields["addressType"]?.stringValue ?? ""
        if slice.addressType != oldType {
            errors.append(ValidationError(type: .invalid, field: "addressType", badValue: .string(slice.addressType),
                                          detail: "field is immutable"))
        }
        guard errors.isEmpty else { throw Self.invalid(slice, errors) }
        let generation = old.generation ?? 1
        object = KubeObject(fields: try TypedCodec.encode(slice).objectValue ?? [:])
        var content = object.fields, oldContent = old.fields
        content["metadata"] = nil
        oldContent["metadata"] = nil
        let changed = content != oldContent || object.labels != old.labels
        object.generation = changed ? generation + 1 : generation
        return warnings
    }

    private static func invalid(_ slice: EndpointSlice, _ errors: [ValidationError]) -> APIError {
        APIError.invalid(kind: "EndpointSlice", group: "discovery.k8s.io", name: slice.metadata.name ?? "", errors: errors)
    }

    /// The slice with its defaults, after the checks a typed decode cannot make: a missing
    /// `addressType` or `addresses` is a validation error upstream, not a decoding one.
    private func decode(_ object: KubeObject, context: StrategyContext) throws(APIError) -> (EndpointSlice, [String]) {
        var missing: [ValidationError] = []
        let addressType = object.fields["addressType"]
        if addressType == nil || addressType == .null || addressType == .string("") {
            missing.append(ValidationError(type: .required, field: "addressType"))
        }
        for (index, endpoint) in (object.fields["endpoints"]?.arrayValue ?? []).enumerated() {
            if (endpoint["addresses"]?.arrayValue ?? []).isEmpty {
                missing.append(ValidationError(type: .required, field: "endpoints[\(index)].addresses", detail: "must contain at least 1 address"))
            }
        }
        if !missing.isEmpty {
            throw APIError.invalid(kind: "EndpointSlice", group: "discovery.k8s.io", name: object.name ?? "", errors: missing)
        }
        var (slice, warnings) = try TypedCodec.decode(EndpointSlice.self, from: object.json, kind: "EndpointSlice", version: "v1",
                                                     validation: context.fieldValidation)
        if var ports = slice.ports {
            for index in ports.indices {
                if ports[index].name == nil { ports[index].name = "" }
                if ports[index].protocol == nil { ports[index].protocol = "TCP" }
            }
            slice.ports = ports
        }
        return (slice, warnings)
    }

    /// `ValidateEndpointSlice`.
    static func validate(_ slice: EndpointSlice) -> [ValidationError] {
        var errors = ObjectValidation.validateMetadata(slice.metadata, namespaced: true, nameRule: .dns1123Subdomain)
        if !supportedAddressTypes.contains(slice.addressType) {
            errors.append(ServiceValidation.notSupported("addressType", slice.addressType, supportedAddressTypes))
        }
        errors += validateEndpoints(slice.endpoints, addressType: slice.addressType)
        errors += validatePorts(slice.ports ?? [])
        return errors
    }

    private static func validateEndpoints(_ endpoints: [Endpoint], addressType: String) -> [ValidationError] {
        if endpoints.count > maxEndpoints {
            return [ValidationError(type: .tooMany, field: "endpoints", badValue: .int(Int64(endpoints.count)),
                                    detail: "must have at most \(maxEndpoints) items")]
        }
        var errors: [ValidationError] = []
        for (index, endpoint) in endpoints.enumerated() {
            let path = "endpoints[\(index)]"
            if endpoint.addresses.isEmpty {
                errors.append(ValidationError(type: .required, field: path + ".addresses", detail: "must contain at least 1 address"))
            } else if endpoint.addresses.count > maxAddresses {
                errors.append(ValidationError(type: .tooMany, field: path + ".addresses", badValue: .int(Int64(endpoint.addresses.count)),
                                              detail: "must have at most \(maxAddresses) items"))
            }
            for (position, address) in endpoint.addresses.enumerated() {
                let addressPath = "\(path).addresses[\(position)]"
                switch addressType {
                case "IPv4":
                    if IPv4Text.parseIPv4(address) == nil {
                        errors.append(ServiceValidation.invalid(addressPath, .string(address), "must be a valid IPv4 address"))
                    } else {
                        errors += ServiceValidation.nonSpecialIPErrors(address, path: addressPath)
                    }
                case "IPv6":
                    if !NameRules.isIPAddress(address) || !address.contains(":") {
                        errors.append(ServiceValidation.invalid(addressPath, .string(address), "must be a valid IPv6 address"))
                    } else {
                        errors += ServiceValidation.nonSpecialIPErrors(address, path: addressPath)
                    }
                case "FQDN":
                    errors += fqdnErrors(address).map { ServiceValidation.invalid(addressPath, .string(address), $0) }
                default:
                    break
                }
            }
            if let node = endpoint.nodeName {
                errors += NameRules.dns1123Subdomain(node).map { ServiceValidation.invalid(path + ".nodeName", .string(node), $0) }
            }
            if let hostname = endpoint.hostname {
                errors += NameRules.dns1123Label(hostname).map { ServiceValidation.invalid(path + ".hostname", .string(hostname), $0) }
            }
        }
        return errors
    }

    private static func validatePorts(_ ports: [EndpointPort]) -> [ValidationError] {
        if ports.count > maxPorts {
            return [ValidationError(type: .tooMany, field: "ports", badValue: .int(Int64(ports.count)), detail: "must have at most \(maxPorts) items")]
        }
        var errors: [ValidationError] = []
        var names: Set<String> = []
        for (index, port) in ports.enumerated() {
            let path = "ports[\(index)]"
            let name = port.name ?? ""
            if !name.isEmpty {
                errors += NameRules.dns1123Label(name).map { ServiceValidation.invalid(path + ".name", .string(name), $0) }
            }
            if !names.insert(name).inserted {
                errors.append(ValidationError(type: .duplicate, field: path + ".name", badValue: .string(name)))
            }
            // Upstream leaves the number unchecked; every reader here (the proxies, DNS) needs a
            // real port, so a set one must be 1-65535.
            if let number = port.port {
                errors += NameRules.portNumber(Int64(number)).map { ServiceValidation.invalid(path + ".port", .int(Int64(number)), $0) }
            }
            let proto = port.protocol ?? ""
            if !ServiceValidation.supportedProtocols.contains(proto) {
                errors.append(ServiceValidation.notSupported(path + ".protocol", proto, ServiceValidation.supportedProtocols))
            }
            if let appProtocol = port.appProtocol {
                errors += NameRules.qualifiedName(appProtocol).map { ServiceValidation.invalid(path + ".appProtocol", .string(appProtocol), $0) }
            }
        }
        return errors
    }

    /// `IsFullyQualifiedDomainName`: at least two labels, a valid subdomain.
    private static func fqdnErrors(_ name: String) -> [String] {
        var trimmed = name
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        var errors = NameRules.dns1123Subdomain(trimmed)
        if !trimmed.contains(".") {
            errors.append("should be a domain with at least two segments separated by dots")
        }
        return errors
    }
}
