import APIMachinery
import Foundation
import KubeAPI

/// `ValidateService` and `ValidateServiceUpdate` of pkg/apis/core/validation/validation.go,
/// with Kubernetes' field paths and messages, for a single-stack IPv4 cluster.
enum ServiceValidation {
    static let supportedTypes = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    static let supportedProtocols = ["SCTP", "TCP", "UDP"]
    static let supportedAffinities = ["ClientIP", "None"]
    static let supportedTrafficPolicies = ["Cluster", "Local"]
    static let supportedIPFamilies = ["IPv4", "IPv6"]
    static let supportedIPFamilyPolicies = ["PreferDualStack", "RequireDualStack", "SingleStack"]

    /// A JSON array of strings, as `field.Error` renders a `[]string` bad value.
    static func jsonList(_ values: [String]) -> ValidationError.BadValue {
        .json("[" + values.map(ObjectValidation.quote).joined(separator: ",") + "]")
    }

    static func invalid(_ field: String, _ value: ValidationError.BadValue, _ detail: String) -> ValidationError {
        ValidationError(type: .invalid, field: field, badValue: value, detail: detail)
    }

    static func required(_ field: String, _ detail: String = "") -> ValidationError {
        ValidationError(type: .required, field: field, detail: detail)
    }

    static func forbidden(_ field: String, _ detail: String) -> ValidationError {
        ValidationError(type: .forbidden, field: field, detail: detail)
    }

    static func notSupported(_ field: String, _ value: String, _ supported: [String]) -> ValidationError {
        ValidationError(type: .notSupported, field: field, badValue: .string(value),
                        detail: "supported values: " + supported.map(ObjectValidation.quote).joined(separator: ", "))
    }

    /// `ValidateService` (without the metadata, which the strategy checks first).
    static func validate(_ spec: ServiceSpec) -> [ValidationError] {
        var errors: [ValidationError] = []
        let type = ServiceRules.type(spec)
        let headless = ServiceRules.isHeadless(spec)
        let ports = spec.ports ?? []
        if ports.isEmpty, !headless, type != "ExternalName" {
            errors.append(required("spec.ports"))
        }
        switch type {
        case "LoadBalancer", "NodePort":
            if headless {
                errors.append(invalid("spec.clusterIPs[0]", .string("None"), "may not be set to 'None' for \(type) services"))
            }
        case "ExternalName":
            if !(spec.clusterIPs ?? []).isEmpty {
                errors.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
            }
            if !(spec.ipFamilies ?? []).isEmpty {
                errors.append(forbidden("spec.ipFamilies", "may not be set for ExternalName services"))
            }
            if spec.ipFamilyPolicy != nil {
                errors.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
            }
            // The name (a CNAME target) may end with a dot to say it is fully qualified.
            var name = spec.externalName ?? ""
            if name.hasSuffix(".") { name.removeLast() }
            if name.isEmpty {
                errors.append(required("spec.externalName"))
            } else {
                errors += NameRules.dns1123Subdomain(name).map { invalid("spec.externalName", .string(name), $0) }
            }
        default:
            break
        }
        var names: Set<String> = []
        for (index, port) in ports.enumerated() {
            errors += validatePort(port, requireName: ports.count > 1, names: &names, path: "spec.ports[\(index)]")
        }
        if let selector = spec.selector {
            errors += ObjectValidation.validateLabels(selector, path: "spec.selector")
        }
        errors += validateSessionAffinity(spec)
        errors += validateClusterIPFields(spec)
        for (index, address) in (spec.externalIPs ?? []).enumerated() {
            let path = "spec.externalIPs[\(index)]"
            if NameRules.isIPAddress(address) {
                errors += nonSpecialIPErrors(address, path: path)
            } else {
                errors.append(invalid(path, .string(address), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
            }
        }
        if type.isEmpty {
            errors.append(required("spec.type"))
        } else if !supportedTypes.contains(type) {
            errors.append(notSupported("spec.type", type, supportedTypes))
        }
        if type == "ClusterIP" {
            for index in ports.indices where (ports[index].nodePort ?? 0) != 0 {
                errors.append(forbidden("spec.ports[\(index)].nodePort", "may not be used when `type` is 'ClusterIP'"))
            }
        }
        // Duplicates are (protocol, nodePort) and (protocol, port) pairs.
        var nodePorts: Set<String> = []
        var servicePorts: Set<String> = []
        for (index, port) in ports.enumerated() {
            let proto = port.protocol ?? ""
            if let nodePort = port.nodePort, nodePort != 0, !nodePorts.insert("\(proto)/\(nodePort)").inserted {
                errors.append(ValidationError(type: .duplicate, field: "spec.ports[\(index)].nodePort", badValue: .int(Int64(nodePort))))
            }
            if !servicePorts.insert("\(proto)/\(port.port)").inserted {
                errors.append(ValidationError(type: .duplicate, field: "spec.ports[\(index)]",
                                              badValue: .json(#"{"Name":"","Protocol":\#(ObjectValidation.quote(proto)),"AppProtocol":null,"Port":\#(port.port),"TargetPort":0,"NodePort":0}"#)))
            }
        }
        if let ranges = spec.loadBalancerSourceRanges, !ranges.isEmpty {
            let path = "spec.LoadBalancerSourceRanges"
            if type != "LoadBalancer" {
                errors.append(forbidden(path, "may only be used when `type` is 'LoadBalancer'"))
            }
            for (index, range) in ranges.enumerated() {
                let trimmed = range.trimmingCharacters(in: .whitespaces)
                if !isCIDR(trimmed) {
                    errors.append(invalid("\(path)[\(index)]", .string(trimmed), "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
                }
            }
        }
        if spec.allocateLoadBalancerNodePorts != nil, type != "LoadBalancer" {
            errors.append(forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"))
        }
        if type == "LoadBalancer", spec.allocateLoadBalancerNodePorts == nil {
            errors.append(required("allocateLoadBalancerNodePorts"))
        }
        if let loadBalancerClass = spec.loadBalancerClass {
            if type != "LoadBalancer" {
                errors.append(forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"))
            } else {
                errors += NameRules.qualifiedName(loadBalancerClass).map { invalid("spec.loadBalancerClass", .string(loadBalancerClass), $0) }
            }
        }
        errors += validateTrafficPolicies(spec)
        return errors
    }

    /// `validateServicePort`.
    static func validatePort(_ port: ServicePort, requireName: Bool, names: inout Set<String>, path: String) -> [ValidationError] {
        var errors: [ValidationError] = []
        let name = port.name ?? ""
        if requireName, name.isEmpty {
            errors.append(required(path + ".name"))
        } else if !name.isEmpty {
            errors += NameRules.dns1123Label(name).map { invalid(path + ".name", .string(name), $0) }
            if !names.insert(name).inserted {
                errors.append(ValidationError(type: .duplicate, field: path + ".name", badValue: .string(name)))
            }
        }
        errors += NameRules.portNumber(Int64(port.port)).map { invalid(path + ".port", .int(Int64(port.port)), $0) }
        let proto = port.protocol ?? ""
        if proto.isEmpty {
            errors.append(required(path + ".protocol"))
        } else if !supportedProtocols.contains(proto) {
            errors.append(notSupported(path + ".protocol", proto, supportedProtocols))
        }
        switch port.targetPort {
        case .int(let number)?:
            errors += NameRules.portNumber(Int64(number)).map { invalid(path + ".targetPort", .int(Int64(number)), $0) }
        case .string(let name)?:
            errors += NameRules.portName(name).map { invalid(path + ".targetPort", .string(name), $0) }
        case nil:
            break
        }
        if let appProtocol = port.appProtocol {
            errors += NameRules.qualifiedName(appProtocol).map { invalid(path + ".appProtocol", .string(appProtocol), $0) }
        }
        return errors
    }

    /// The session affinity, and `validateClientIPAffinityConfig`.
    private static func validateSessionAffinity(_ spec: ServiceSpec) -> [ValidationError] {
        let affinity = spec.sessionAffinity ?? ""
        if affinity.isEmpty { return [required("spec.sessionAffinity")] }
        guard supportedAffinities.contains(affinity) else { return [notSupported("spec.sessionAffinity", affinity, supportedAffinities)] }
        let path = "spec.sessionAffinityConfig"
        if affinity == "None" {
            return spec.sessionAffinityConfig == nil ? [] : [forbidden(path, "must not be set when session affinity is None")]
        }
        guard let config = spec.sessionAffinityConfig else { return [required(path, "when session affinity type is ClientIP")] }
        guard let clientIP = config.clientIP else { return [required(path + ".clientIP", "when session affinity type is ClientIP")] }
        guard let timeout = clientIP.timeoutSeconds else {
            return [required(path + ".clientIP.timeoutSeconds", "when session affinity type is ClientIP")]
        }
        if timeout <= 0 || timeout > ServiceRules.clientIPAffinityMaxSeconds {
            return [invalid(path + ".clientIP.timeoutSeconds", .int(Int64(timeout)),
                            "must be greater than 0 and less than \(ServiceRules.clientIPAffinityMaxSeconds)")]
        }
        return []
    }

    /// External and internal traffic policies and the health-check node port
    /// (`validateServiceExternalTrafficPolicy`, `validateServiceInternalTrafficFieldsValue`,
    /// `validateServiceTrafficDistribution`).
    private static func validateTrafficPolicies(_ spec: ServiceSpec) -> [ValidationError] {
        var errors: [ValidationError] = []
        let external = spec.externalTrafficPolicy ?? ""
        if !ServiceRules.externallyAccessible(spec) {
            if !external.isEmpty {
                errors.append(invalid("spec.externalTrafficPolicy", .string(external), "may only be set for externally-accessible services"))
            }
        } else if external.isEmpty {
            errors.append(required("spec.externalTrafficPolicy"))
        } else if !supportedTrafficPolicies.contains(external) {
            errors.append(notSupported("spec.externalTrafficPolicy", external, supportedTrafficPolicies))
        }
        let health = Int64(spec.healthCheckNodePort ?? 0)
        if !ServiceRules.needsHealthCheck(spec) {
            if health != 0 {
                errors.append(invalid("spec.healthCheckNodePort", .int(health),
                                      "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
            }
        } else if health == 0 {
            errors.append(required("spec.healthCheckNodePort"))
        } else {
            errors += NameRules.portNumber(health).map { invalid("spec.healthCheckNodePort", .int(health), $0) }
        }
        if let internalPolicy = spec.internalTrafficPolicy {
            if !supportedTrafficPolicies.contains(internalPolicy) {
                errors.append(notSupported("spec.internalTrafficPolicy", internalPolicy, supportedTrafficPolicies))
            }
        } else if ["NodePort", "LoadBalancer", "ClusterIP"].contains(ServiceRules.type(spec)) {
            errors.append(required("spec.internalTrafficPolicy"))
        }
        if let distribution = spec.trafficDistribution, distribution != "PreferClose" {
            errors.append(notSupported("spec.trafficDistribution", distribution, ["PreferClose"]))
        }
        return errors
    }

    /// `ValidateServiceClusterIPsRelatedFields`: `clusterIP` and `clusterIPs` agree, families
    /// and policy are known values, addresses parse, at most one per family.
    static func validateClusterIPFields(_ spec: ServiceSpec) -> [ValidationError] {
        guard ServiceRules.needsClusterIP(spec) else { return [] }
        var errors: [ValidationError] = []
        let clusterIP = spec.clusterIP ?? ""
        let clusterIPs = spec.clusterIPs ?? []
        if !clusterIP.isEmpty {
            if clusterIPs.isEmpty {
                errors.append(required("spec.clusterIPs"))
            } else if clusterIPs[0] != clusterIP {
                errors.append(invalid("spec.clusterIPs", jsonList(clusterIPs), "first value must match `clusterIP`"))
            }
        } else if !clusterIPs.isEmpty {
            errors.append(invalid("spec.clusterIPs", jsonList(clusterIPs), "must be empty when `clusterIP` is not specified"))
        }
        var seen: Set<String> = []
        for (index, family) in (spec.ipFamilies ?? []).enumerated() {
            if !supportedIPFamilies.contains(family) {
                errors.append(notSupported("spec.ipFamilies[\(index)]", family, supportedIPFamilies))
            }
            if !seen.insert(family).inserted {
                errors.append(ValidationError(type: .duplicate, field: "spec.ipFamilies[\(index)]", badValue: .string(family)))
            }
        }
        if let policy = spec.ipFamilyPolicy, !supportedIPFamilyPolicies.contains(policy) {
            errors.append(notSupported("spec.ipFamilyPolicy", policy, supportedIPFamilyPolicies))
        }
        var invalidIPs = false
        for (index, address) in clusterIPs.enumerated() {
            if index == 0, address == "None" {
                if clusterIPs.count > 1 {
                    invalidIPs = true
                    errors.append(invalid("spec.clusterIPs", jsonList(clusterIPs), "'None' must be the first and only value"))
                }
                continue
            }
            if !NameRules.isIPAddress(address) {
                invalidIPs = true
                errors.append(invalid("spec.clusterIPs[\(index)]", .string(address), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
            }
        }
        if clusterIPs.count > 2 {
            errors.append(invalid("spec.clusterIPs", jsonList(clusterIPs), "may only hold up to 2 values"))
        }
        if invalidIPs { return errors }
        if clusterIPs.count > 1, Set(clusterIPs.map(isIPv6)).count != clusterIPs.count {
            errors.append(invalid("spec.clusterIPs", jsonList(clusterIPs), "may specify no more than one IP for each IP family"))
        }
        if !ServiceRules.isHeadless(spec), let families = spec.ipFamilies, !families.isEmpty {
            for (index, address) in clusterIPs.enumerated() where index < families.count {
                if families[index] == "IPv4", isIPv6(address) {
                    errors.append(invalid("spec.clusterIPs[\(index)]", .string(address), "expected an IPv4 value as indicated by `ipFamilies[\(index)]`"))
                }
                if families[index] == "IPv6", !isIPv6(address) {
                    errors.append(invalid("spec.clusterIPs[\(index)]", .string(address), "expected an IPv6 value as indicated by `ipFamilies[\(index)]`"))
                }
            }
        }
        return errors
    }

    /// `ValidateServiceUpdate`'s additions: the cluster IPs and IP families of a Service stay
    /// what they are (unless it changes from or to ExternalName, or stays headless), and so
    /// does a health-check node port.
    static func validateUpdate(_ spec: ServiceSpec, old: ServiceSpec) -> [ValidationError] {
        var errors: [ValidationError] = []
        let involvesExternalName = spec.type == "ExternalName" || old.type == "ExternalName"
        let headless = ServiceRules.isHeadless(spec), oldHeadless = ServiceRules.isHeadless(old)
        if !involvesExternalName, !(headless && oldHeadless) {
            let ips = spec.clusterIPs ?? [], oldIPs = old.clusterIPs ?? []
            if ips.count == oldIPs.count {
                for index in oldIPs.indices where oldIPs[index] != ips[index] {
                    errors.append(invalid("spec.clusterIPs[\(index)]", jsonList(ips), "may not change once set"))
                }
            } else if ips.count < oldIPs.count {
                if ips.isEmpty {
                    errors.append(invalid("spec.clusterIPs[0]", jsonList(ips), "primary clusterIP can not be unset"))
                } else if ips[0] != oldIPs[0] {
                    errors.append(invalid("spec.clusterIPs[0]", jsonList(ips), "may not change once set"))
                }
            } else if let first = oldIPs.first, ips[0] != first {
                errors.append(invalid("spec.clusterIPs[0]", jsonList(ips), "may not change once set"))
            }
        }
        if !involvesExternalName, headless == oldHeadless, !headless {
            let families = spec.ipFamilies ?? [], oldFamilies = old.ipFamilies ?? []
            if families.count == oldFamilies.count, families != oldFamilies {
                errors.append(invalid("spec.ipFamilies[0]", jsonList(families), "may not change once set"))
            } else if families.count != oldFamilies.count, let first = families.first, let oldFirst = oldFamilies.first, first != oldFirst {
                errors.append(invalid("spec.ipFamilies[0]", jsonList(spec.clusterIPs ?? []), "may not change once set"))
            }
        }
        if ServiceRules.needsHealthCheck(old), ServiceRules.needsHealthCheck(spec), spec.healthCheckNodePort != old.healthCheckNodePort {
            errors.append(forbidden("spec.healthCheckNodePort", "field is immutable"))
        }
        return errors
    }

    /// `ValidateNonSpecialIP` and `ValidateEndpointIP`: addresses given to services and
    /// endpoints may not be unspecified, loopback, link-local or link-local multicast.
    static func nonSpecialIPErrors(_ address: String, path: String) -> [ValidationError] {
        let lower = address.lowercased()
        if let value = IPv4Text.parseIPv4(address) {
            if value == 0 { return [invalid(path, .string(address), "may not be unspecified (\(address))")] }
            if value >> 24 == 127 { return [invalid(path, .string(address), "may not be in the loopback range (127.0.0.0/8, ::1/128)")] }
            if value >> 16 == 0xA9FE { return [invalid(path, .string(address), "may not be in the link-local range (169.254.0.0/16, fe80::/10)")] }
            if value >> 8 == 0xE00000 {
                return [invalid(path, .string(address), "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")]
            }
            return []
        }
        if lower == "::" { return [invalid(path, .string(address), "may not be unspecified (\(address))")] }
        if lower == "::1" { return [invalid(path, .string(address), "may not be in the loopback range (127.0.0.0/8, ::1/128)")] }
        if ["fe8", "fe9", "fea", "feb"].contains(where: lower.hasPrefix) {
            return [invalid(path, .string(address), "may not be in the link-local range (169.254.0.0/16, fe80::/10)")]
        }
        if lower.hasPrefix("ff02:") {
            return [invalid(path, .string(address), "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")]
        }
        return []
    }

    static func isIPv6(_ address: String) -> Bool { address.contains(":") }

    static func isCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, NameRules.isIPAddress(String(parts[0])), let length = Int(parts[1]) else { return false }
        return length >= 0 && length <= (parts[0].contains(":") ? 128 : 32)
    }
}
