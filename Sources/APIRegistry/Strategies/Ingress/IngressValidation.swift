import APIMachinery
import Foundation
import KubeAPI

/// `ValidateIngressCreate`, `ValidateIngressUpdate` and `ValidateIngressStatusUpdate` of
/// Kubernetes 1.32 (pkg/apis/networking/validation/validation.go), with its field paths and
/// messages. Metadata is checked first, as `validateIngress` does, so every problem of a
/// request comes back in one `Invalid` error.
enum IngressValidation {
    /// `sets.NewString(...).List()`: sorted, as the NotSupported message lists them.
    static let supportedPathTypes = ["Exact", "ImplementationSpecific", "Prefix"]
    static let invalidPathSequences = ["//", "/./", "/../", "%2f", "%2F"]
    static let invalidPathSuffixes = ["/..", "/."]

    /// What an update may keep of a stored object that today's rules refuse
    /// (`IngressValidationOptions`): objects written by older servers stay updatable.
    struct Options {
        var allowInvalidSecretName = false
        var allowInvalidWildcardHostRule = false
    }

    static func validateCreate(_ ingress: Ingress) -> [ValidationError] {
        var errors = validate(ingress, options: Options())
        // Both the deprecated annotation and the field: they must agree.
        if let annotation = ingress.metadata.annotations?[IngressClass.legacyClassAnnotation],
           let className = ingress.spec.ingressClassName, annotation != className {
            errors.append(ServiceValidation.invalid("annotations.\(IngressClass.legacyClassAnnotation)", .string(annotation),
                                                    "must match `ingressClassName` when both are specified"))
        }
        return errors
    }

    static func validateUpdate(_ ingress: Ingress, old: Ingress) -> [ValidationError] {
        var options = Options()
        // allowInvalidSecretName / allowInvalidWildcardHostRule: backwards compatibility with
        // what is already stored.
        options.allowInvalidSecretName = (old.spec.tls ?? []).contains { !secretNameErrors($0.secretName ?? "").isEmpty }
        options.allowInvalidWildcardHostRule = (old.spec.rules ?? []).contains { rule in
            (rule.host ?? "").contains("*") && !ruleValueErrors(rule, path: "", options: Options()).isEmpty
        }
        return validate(ingress, options: options)
    }

    private static func validate(_ ingress: Ingress, options: Options) -> [ValidationError] {
        ObjectValidation.validateMetadata(ingress.metadata, namespaced: true, nameRule: .dns1123Subdomain)
            + specErrors(ingress.spec, options: options)
    }

    /// `ValidateIngressSpec`.
    static func specErrors(_ spec: IngressSpec, options: Options) -> [ValidationError] {
        var errors: [ValidationError] = []
        let rules = spec.rules ?? []
        if rules.isEmpty, spec.defaultBackend == nil {
            // Go prints the (nil or empty) []IngressRule with %#v.
            let value = spec.rules == nil ? "[]networking.IngressRule(nil)" : "[]networking.IngressRule{}"
            errors.append(ServiceValidation.invalid("spec", .json(value), "either `defaultBackend` or `rules` must be specified"))
        }
        if let backend = spec.defaultBackend {
            errors += backendErrors(backend, path: "spec.defaultBackend")
        }
        for (index, rule) in rules.enumerated() {
            errors += ruleErrors(rule, path: "spec.rules[\(index)]", options: options)
        }
        for (index, tls) in (spec.tls ?? []).enumerated() {
            let path = "spec.tls[\(index)]"
            for (position, host) in (tls.hosts ?? []).enumerated() {
                let messages = host.contains("*") ? wildcardSubdomainErrors(host) : NameRules.dns1123Subdomain(host)
                errors += messages.map { ServiceValidation.invalid("\(path).hosts[\(position)]", .string(host), $0) }
            }
            if !options.allowInvalidSecretName {
                let secretName = tls.secretName ?? ""
                errors += secretNameErrors(secretName).map { ServiceValidation.invalid(path + ".secretName", .string(secretName), $0) }
            }
        }
        if let className = spec.ingressClassName {
            errors += ObjectValidation.nameErrors(className, rule: .dns1123Subdomain, prefix: false)
                .map { ServiceValidation.invalid("spec.ingressClassName", .string(className), $0) }
        }
        return errors
    }

    /// `validateIngressRules` for one rule: the host (a DNS name, or a wildcard whose `*` is the
    /// whole first label, never an IP address), then its paths.
    private static func ruleErrors(_ rule: IngressRule, path: String, options: Options) -> [ValidationError] {
        var errors: [ValidationError] = []
        var wildcard = false
        if let host = rule.host, !host.isEmpty {
            if NameRules.isIPAddress(host) {
                errors.append(ServiceValidation.invalid(path + ".host", .string(host), "must be a DNS name, not an IP address"))
            }
            if host.contains("*") {
                errors += wildcardSubdomainErrors(host).map { ServiceValidation.invalid(path + ".host", .string(host), $0) }
                wildcard = true
            } else {
                errors += NameRules.dns1123Subdomain(host).map { ServiceValidation.invalid(path + ".host", .string(host), $0) }
            }
        }
        if !wildcard || !options.allowInvalidWildcardHostRule {
            errors += ruleValueErrors(rule, path: path, options: options)
        }
        return errors
    }

    /// `validateIngressRuleValue`: a rule's `http` needs paths, each valid.
    private static func ruleValueErrors(_ rule: IngressRule, path: String, options: Options) -> [ValidationError] {
        guard let http = rule.http else { return [] }
        var errors: [ValidationError] = []
        if http.paths.isEmpty {
            errors.append(ServiceValidation.required(path + ".http.paths"))
        }
        for (index, element) in http.paths.enumerated() {
            errors += pathErrors(element, path: "\(path).http.paths[\(index)]")
        }
        return errors
    }

    /// `validateHTTPIngressPath`: pathType is required (networking.k8s.io/v1 has no default);
    /// Exact and Prefix paths are absolute and free of `//`, `/./`, `/../`, encoded slashes and
    /// dot segments at the end, so that matching them cannot be fooled by path normalisation.
    private static func pathErrors(_ element: HTTPIngressPath, path: String) -> [ValidationError] {
        guard let pathType = element.pathType else {
            return [ServiceValidation.required(path + ".pathType", "pathType must be specified")]
        }
        var errors: [ValidationError] = []
        let value = element.path ?? ""
        switch pathType {
        case "Exact", "Prefix":
            if !value.hasPrefix("/") {
                errors.append(ServiceValidation.invalid(path + ".path", .string(value), "must be an absolute path"))
            }
            if !value.isEmpty {
                for sequence in invalidPathSequences where value.contains(sequence) {
                    errors.append(ServiceValidation.invalid(path + ".path", .string(value), "must not contain '\(sequence)'"))
                }
                for suffix in invalidPathSuffixes where value.hasSuffix(suffix) {
                    errors.append(ServiceValidation.invalid(path + ".path", .string(value), "cannot end with '\(suffix)'"))
                }
            }
        case "ImplementationSpecific":
            if !value.isEmpty, !value.hasPrefix("/") {
                errors.append(ServiceValidation.invalid(path + ".path", .string(value), "must be an absolute path"))
            }
        default:
            errors.append(ServiceValidation.notSupported(path + ".pathType", pathType, supportedPathTypes))
        }
        return errors + backendErrors(element.backend, path: path + ".backend")
    }

    /// `validateIngressBackend`: exactly one of a Service (a DNS-1035 name and exactly one of
    /// a port name or number) and a typed resource reference.
    static func backendErrors(_ backend: IngressBackend, path: String) -> [ValidationError] {
        switch (backend.service, backend.resource) {
        case (.some, .some):
            return [ServiceValidation.invalid(path, .string(""), "cannot set both resource and service backends")]
        case (nil, .some(let resource)):
            return typedReferenceErrors(resource, path: path + ".resource")
        case (.some(let service), nil):
            var errors: [ValidationError] = []
            if service.name.isEmpty {
                errors.append(ServiceValidation.required(path + ".service.name"))
            } else {
                // ValidateServiceName (1.32; RelaxedServiceNameValidation came in 1.34).
                errors += ObjectValidation.nameErrors(service.name, rule: .dns1035Label, prefix: false)
                    .map { ServiceValidation.invalid(path + ".service.name", .string(service.name), $0) }
            }
            let name = service.port?.name ?? "", number = service.port?.number ?? 0
            if !name.isEmpty, number != 0 {
                errors.append(ServiceValidation.invalid(path, .string(""), "cannot set both port name & port number"))
            } else if !name.isEmpty {
                errors += NameRules.portName(name).map { ServiceValidation.invalid(path + ".service.port.name", .string(name), $0) }
            } else if number != 0 {
                errors += NameRules.portNumber(Int64(number)).map { ServiceValidation.invalid(path + ".service.port.number", .int(Int64(number)), $0) }
            } else {
                errors.append(ServiceValidation.required(path, "port name or number is required"))
            }
            return errors
        case (nil, nil):
            return [ServiceValidation.invalid(path, .string(""), "resource or service backend is required")]
        }
    }

    /// `validateIngressTypedLocalObjectReference`.
    private static func typedReferenceErrors(_ reference: TypedLocalObjectReference, path: String) -> [ValidationError] {
        var errors: [ValidationError] = []
        if let group = reference.apiGroup {
            errors += NameRules.dns1123Subdomain(group).map { ServiceValidation.invalid(path + ".apiGroup", .string(group), $0) }
        }
        errors += requiredSegment(reference.kind, path: path + ".kind")
        errors += requiredSegment(reference.name, path: path + ".name")
        return errors
    }

    /// A required value that must also be usable as a URL path segment.
    static func requiredSegment(_ value: String, path: String) -> [ValidationError] {
        if value.isEmpty { return [ServiceValidation.required(path)] }
        return pathSegmentErrors(value).map { ServiceValidation.invalid(path, .string(value), $0) }
    }

    /// `path.IsValidPathSegmentName`.
    static func pathSegmentErrors(_ name: String) -> [String] {
        if name == "." || name == ".." { return ["may not be '\(name)'"] }
        return ["/", "%"].filter { name.contains($0) }.map { "may not contain '\($0)'" }
    }

    /// `ValidateSecretName` when a name is given (an empty one is allowed: the controller's
    /// default certificate).
    static func secretNameErrors(_ name: String) -> [String] {
        name.isEmpty ? [] : ObjectValidation.nameErrors(name, rule: .dns1123Subdomain, prefix: false)
    }

    /// `IsWildcardDNS1123Subdomain`: `*.` followed by a DNS subdomain.
    static func wildcardSubdomainErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 253 {
            errors.append("must be no more than 253 characters")
        }
        // Only the pattern: the length was checked above, on the whole value.
        let patternErrors = NameRules.dns1123Subdomain(String(value.dropFirst(2))).filter { !$0.hasPrefix("must be no more than") }
        if !value.hasPrefix("*.") || !patternErrors.isEmpty {
            errors.append("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
        }
        return errors
    }

    /// `ValidateIngressLoadBalancerStatus` (1.32): addresses are IPs, hostnames DNS names.
    static func statusErrors(_ status: IngressStatus?) -> [ValidationError] {
        var errors: [ValidationError] = []
        for (index, ingress) in (status?.loadBalancer?.ingress ?? []).enumerated() {
            let path = "status.loadBalancer.ingress[\(index)]"
            if let ip = ingress.ip, !ip.isEmpty, !NameRules.isIPAddress(ip) {
                errors.append(ServiceValidation.invalid(path + ".ip", .string(ip), "must be a valid IP address"))
            }
            if let hostname = ingress.hostname, !hostname.isEmpty {
                errors += NameRules.dns1123Subdomain(hostname).map { ServiceValidation.invalid(path + ".hostname", .string(hostname), $0) }
                if NameRules.isIPAddress(hostname) {
                    errors.append(ServiceValidation.invalid(path + ".hostname", .string(hostname), "must be a DNS name, not an IP address"))
                }
            }
        }
        return errors
    }
}
