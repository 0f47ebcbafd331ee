import APIMachinery
import KubeAPI

/// `networking.k8s.io/v1` IngressClasses (pkg/registry/networking/ingressclass/strategy.go,
/// `ValidateIngressClass` and `ValidateIngressClassUpdate`): the controller is required, a
/// domain-prefixed path of at most 250 bytes, and immutable; parameters are defaulted to
/// `scope: Cluster` (`SetDefaults_IngressClass`) and checked with the scope's namespace rules.
struct IngressClassStrategy: ResourceStrategy {
    static let maxControllerLength = 250
    static let supportedScopes = ["Cluster", "Namespace"]
    /// `validation.httpPathFmt`.
    static let httpPathFormat = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+"

    var validatesMetadata: Bool { true }

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (ingressClass, warnings) = try Self.decode(object, context: context)
        let errors = Self.validate(ingressClass)
        guard errors.isEmpty else { throw Self.invalid(ingressClass, errors) }
        object.fields["spec"] = try TypedCodec.encode(ingressClass.spec)
        return warnings
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (ingressClass, warnings) = try Self.decode(object, context: context)
        let (oldClass, _) = try Self.decode(old, context: context, validation: .ignore)
        var errors: [ValidationError] = []
        let controller = ingressClass.spec.controller ?? "", oldController = oldClass.spec.controller ?? ""
        if controller != oldController {
            errors.append(ServiceValidation.invalid("spec.controller", .string(controller), "field is immutable"))
        }
        errors += Self.validate(ingressClass)
        guard errors.isEmpty else { throw Self.invalid(ingressClass, errors) }
        object.fields["spec"] = try TypedCodec.encode(ingressClass.spec)
        return warnings
    }

    /// The class with `SetDefaults_IngressClass` applied.
    private static func decode(_ object: KubeObject, context: StrategyContext,
                               validation: FieldValidation? = nil) throws(APIError) -> (IngressClass, [String]) {
        var (ingressClass, warnings) = try TypedCodec.decode(IngressClass.self, from: object.json, kind: "IngressClass", version: "v1",
                                                             validation: validation ?? context.fieldValidation)
        if ingressClass.spec.parameters != nil, ingressClass.spec.parameters?.scope == nil {
            ingressClass.spec.parameters?.scope = "Cluster"
        }
        return (ingressClass, warnings)
    }

    /// `ValidateIngressClass`.
    static func validate(_ ingressClass: IngressClass) -> [ValidationError] {
        var errors = ObjectValidation.validateMetadata(ingressClass.metadata, namespaced: false, nameRule: .dns1123Subdomain)
        let controller = ingressClass.spec.controller ?? ""
        if controller.isEmpty {
            errors.append(ServiceValidation.required("spec.controller"))
        } else {
            if controller.utf8.count > maxControllerLength {
                errors.append(ValidationError(type: .tooLong, field: "spec.controller", detail: "may not be more than \(maxControllerLength) bytes"))
            }
            errors += domainPrefixedPathErrors(controller, path: "spec.controller")
        }
        if let parameters = ingressClass.spec.parameters {
            errors += parametersErrors(parameters, path: "spec.parameters")
        }
        return errors
    }

    /// `validation.IsDomainPrefixedPath`: `acme.io/foo`, a DNS subdomain, a slash and HTTP
    /// path characters.
    static func domainPrefixedPathErrors(_ value: String, path: String) -> [ValidationError] {
        let parts = value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            return [ServiceValidation.invalid(path, .string(value), "must be a domain-prefixed path (such as \"acme.io/foo\")")]
        }
        var errors = NameRules.dns1123Subdomain(parts[0]).map { ServiceValidation.invalid(path, .string(parts[0]), $0) }
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-._~%!$&'()*+,;=:".utf8)
        if !parts[1].utf8.allSatisfy(allowed.contains) {
            errors.append(ServiceValidation.invalid(path, .string(parts[1]), "Invalid path (regex used for validation is '\(httpPathFormat)')"))
        }
        return errors
    }

    /// `validateIngressClassParametersReference`.
    private static func parametersErrors(_ parameters: IngressClassParametersReference, path: String) -> [ValidationError] {
        var errors: [ValidationError] = []
        if let group = parameters.apiGroup {
            errors += NameRules.dns1123Subdomain(group).map { ServiceValidation.invalid(path + ".apiGroup", .string(group), $0) }
        }
        errors += IngressValidation.requiredSegment(parameters.kind, path: path + ".kind")
        errors += IngressValidation.requiredSegment(parameters.name, path: path + ".name")
        guard let scope = parameters.scope else {
            return errors + [ServiceValidation.required(path + ".scope")]
        }
        guard supportedScopes.contains(scope) else {
            return errors + [ServiceValidation.notSupported(path + ".scope", scope, supportedScopes)]
        }
        if scope == "Namespace" {
            if let namespace = parameters.namespace {
                errors += NameRules.dns1123Label(namespace).map { ServiceValidation.invalid(path + ".namespace", .string(namespace), $0) }
            } else {
                errors.append(ServiceValidation.required(path + ".namespace", "`parameters.scope` is set to 'Namespace'"))
            }
        }
        if scope == "Cluster", parameters.namespace != nil {
            errors.append(ServiceValidation.forbidden(path + ".namespace", "`parameters.scope` is set to 'Cluster'"))
        }
        return errors
    }

    private static func invalid(_ ingressClass: IngressClass, _ errors: [ValidationError]) -> APIError {
        APIError.invalid(kind: "IngressClass", group: "networking.k8s.io", name: ingressClass.metadata.name ?? "", errors: errors)
    }
}
