/// Validation and defaulting entry points for objects other than a whole Pod, for the API
/// server: `ValidateObjectMeta` with each resource's name rule, pod template specs, and Go's
/// `%q` quoting for messages built elsewhere.
public enum ObjectValidation {
    /// How a resource's names are checked (the `ValidateNameFunc` of its validation).
    public enum NameRule: Sendable {
        /// `NameIsDNSSubdomain`: most resources (pods, nodes, configmaps, deployments, ...).
        case dns1123Subdomain
        /// `NameIsDNSLabel`: namespaces.
        case dns1123Label
        /// `NameIsDNS1035Label`: services.
        case dns1035Label
    }

    /// `ValidateObjectMeta`: name or generateName, namespace presence matching the scope,
    /// labels, annotations, owner references and finalizers, with Kubernetes' messages.
    public static func validateMetadata(_ meta: ObjectMeta, namespaced: Bool, nameRule: NameRule,
                                        path: String = "metadata") -> [ValidationError] {
        var validator = PodValidator()
        if let generateName = meta.generateName, !generateName.isEmpty {
            validator.check(nameErrors(generateName, rule: nameRule, prefix: true), path + ".generateName", generateName)
        }
        let name = meta.name ?? ""
        if name.isEmpty {
            validator.add(.required(path + ".name", "name or generateName is required"))
        } else {
            validator.check(nameErrors(name, rule: nameRule, prefix: false), path + ".name", name)
        }
        let namespace = meta.namespace ?? ""
        if namespaced {
            if namespace.isEmpty {
                validator.add(.required(path + ".namespace"))
            } else {
                validator.check(NameRules.dns1123Label(namespace), path + ".namespace", namespace)
            }
        } else if !namespace.isEmpty {
            validator.add(.forbidden(path + ".namespace", "not allowed on this type"))
        }
        // Everything else is what a pod's metadata gets; reuse it with a valid stand-in
        // name and namespace so those two are not reported twice.
        var rest = meta
        rest.name = "x"
        rest.generateName = nil
        rest.namespace = "x"
        validator.validateMetadata(rest, path: path)
        return validator.errors
    }

    /// `ValidateLabels` on its own (selectors' matchLabels, template labels).
    public static func validateLabels(_ labels: [String: String], path: String) -> [ValidationError] {
        var validator = PodValidator()
        validator.validateLabels(labels, path: path)
        return validator.errors
    }

    /// `ValidatePodSpec` for a pod template (`spec.template.spec` of a Deployment), on a spec
    /// that has had `PodSpec.withTemplateDefaults()`.
    public static func validatePodTemplateSpec(_ spec: PodSpec, path: String) -> [ValidationError] {
        var validator = PodValidator()
        validator.validateSpec(spec, path: path)
        return validator.errors
    }

    /// The failure messages of a name check, empty when valid.
    public static func nameErrors(_ name: String, rule: NameRule, prefix: Bool) -> [String] {
        var value = name
        if prefix, value.count > 1, value.hasSuffix("-") {
            // A generateName may end in '-': check it as if a suffix followed.
            value = String(value.dropLast(2)) + "a"
        }
        switch rule {
        case .dns1123Subdomain: return NameRules.dns1123Subdomain(value)
        case .dns1123Label: return NameRules.dns1123Label(value)
        case .dns1035Label: return dns1035Label(value)
        }
    }

    /// `IsDNS1035Label`.
    static func dns1035Label(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 {
            errors.append("must be no more than 63 characters")
        }
        let bytes = Array(value.utf8)
        let isLower = { (byte: UInt8) in byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        let valid = bytes.first.map(isLower) == true
            && bytes.last.map { isLower($0) || isDigit($0) } == true
            && bytes.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
        if !valid {
            errors.append(NameRules.regexError(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
                "[a-z]([-a-z0-9]*[a-z0-9])?", "my-name", "abc-123"))
        }
        return errors
    }

    /// Go's `strconv.Quote` (what `%q` prints), for messages in Kubernetes' words.
    public static func quote(_ text: String) -> String {
        GoQuote.quote(text)
    }
}

extension PodSpec {
    /// The spec with the API server's defaults, as applied to pod templates of workloads
    /// (`SetDefaults_PodSpec` and its parts; no namespace, unlike `Pod.withDefaults()`).
    public func withTemplateDefaults() -> PodSpec {
        withDefaults()
    }
}
