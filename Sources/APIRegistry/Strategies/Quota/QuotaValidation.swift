import APIMachinery
import Foundation
import KubeAPI

/// `ValidateResourceQuota`, `ValidateResourceQuotaUpdate`, `ValidateResourceQuotaStatusUpdate`
/// and `ValidateLimitRange` of pkg/apis/core/validation/validation.go, with upstream's field
/// paths and messages. Map keys are visited in sorted order (Go's are random).
///
/// Where upstream passes a `resource.Quantity` itself as the bad value, `field.Error` prints
/// it with `%#v` (the Go struct's internals); the quantity's string is printed here instead.
enum QuotaValidation {
    // MARK: Resource names

    /// `validateResourceName`: a qualified name; without a domain, a standard resource.
    static func resourceNameErrors(_ name: String, path: String) -> [ValidationError] {
        let messages = NameRules.qualifiedName(name)
        if !messages.isEmpty {
            return messages.map { ServiceValidation.invalid(path, .string(name), $0) }
        }
        if !name.contains("/"), !ResourceNames.isStandard(name) {
            return [ServiceValidation.invalid(path, .string(name), "must be a standard resource type or fully qualified")]
        }
        return []
    }

    /// `ValidateResourceQuotaResourceName`.
    static func quotaResourceNameErrors(_ name: String, path: String) -> [ValidationError] {
        var errors = resourceNameErrors(name, path: path)
        if !name.contains("/"), !ResourceNames.isStandardQuota(name) {
            errors.append(ServiceValidation.invalid(path, .string(name), "must be a standard resource for quota"))
        }
        return errors
    }

    /// `validateContainerResourceName`.
    static func containerResourceNameErrors(_ name: String, path: String) -> [ValidationError] {
        var errors = resourceNameErrors(name, path: path)
        if !name.contains("/") {
            if !ResourceNames.standardContainer.contains(name), !ResourceNames.isHugePages(name) {
                errors.append(ServiceValidation.invalid(path, .string(name), "must be a standard resource for containers"))
            }
        } else if !ResourceNames.isNative(name), !ResourceNames.isExtended(name) {
            errors.append(ServiceValidation.invalid(path, .string(name), "doesn't follow extended resource name standard"))
        }
        return errors
    }

    /// `ValidateResourceQuantityValue`: not negative; whole for resources counted in units.
    static func quantityErrors(_ name: String, _ quantity: Quantity, path: String) -> [ValidationError] {
        var errors: [ValidationError] = []
        if quantity.isNegative {
            errors.append(ServiceValidation.invalid(path, .string(quantity.description), "must be greater than or equal to 0"))
        }
        if ResourceNames.isInteger(name), quantity.milliValue % 1000 != 0 {
            errors.append(ServiceValidation.invalid(path, .string(quantity.description), "must be an integer"))
        }
        return errors
    }

    /// The names and values of one resource list (`spec.hard`, `status.used`).
    static func quotaListErrors(_ list: ResourceList?, path: String) -> [ValidationError] {
        var errors: [ValidationError] = []
        for name in (list ?? [:]).keys.sorted() {
            guard let quantity = list?[name] else { continue }
            let fieldPath = "\(path)[\(name)]"
            errors += quotaResourceNameErrors(name, path: fieldPath)
            errors += quantityErrors(name, quantity, path: fieldPath)
        }
        return errors
    }

    // MARK: ResourceQuota

    /// Go's `%#v` of a `[]core.ResourceQuotaScope`, how upstream prints `spec.scopes`.
    static func goScopes(_ scopes: [String]?) -> ValidationError.BadValue {
        guard let scopes else { return .json("[]core.ResourceQuotaScope(nil)") }
        return .json("[]core.ResourceQuotaScope{" + scopes.map(ObjectValidation.quote).joined(separator: ", ") + "}")
    }

    /// Go's `%#v` of a `[]string`.
    static func goStrings(_ values: [String]) -> ValidationError.BadValue {
        .json("[]string{" + values.map(ObjectValidation.quote).joined(separator: ", ") + "}")
    }

    /// Go's `%#v` of a `core.ScopeSelector`.
    static func goScopeSelector(_ selector: ScopeSelector) -> ValidationError.BadValue {
        let requirements = (selector.matchExpressions ?? []).map { requirement in
            let values = requirement.values.map { "[]string{" + $0.map(ObjectValidation.quote).joined(separator: ", ") + "}" } ?? "[]string(nil)"
            return "core.ScopedResourceSelectorRequirement{ScopeName:\(ObjectValidation.quote(requirement.scopeName)), "
                + "Operator:\(ObjectValidation.quote(requirement.operator)), Values:\(values)}"
        }
        let list = selector.matchExpressions == nil ? "[]core.ScopedResourceSelectorRequirement(nil)"
            : "[]core.ScopedResourceSelectorRequirement{" + requirements.joined(separator: ", ") + "}"
        return .json("core.ScopeSelector{MatchExpressions:\(list)}")
    }

    /// `ValidateResourceQuotaSpec`.
    static func specErrors(_ spec: ResourceQuotaSpec) -> [ValidationError] {
        var errors = quotaListErrors(spec.hard, path: "spec.hard")
        let hardNames = (spec.hard ?? [:]).keys.sorted()
        // validateResourceQuotaScopes
        if let scopes = spec.scopes, !scopes.isEmpty {
            for scope in scopes {
                if !ResourceNames.quotaScopes.contains(scope) {
                    errors.append(ServiceValidation.invalid("spec.scopes", goScopes(scopes), "unsupported scope"))
                }
                for name in hardNames where ResourceNames.isStandardQuota(name) && !ResourceNames.isScope(scope, validFor: name) {
                    errors.append(ServiceValidation.invalid("spec.scopes", goScopes(scopes), "unsupported scope applied to resource"))
                }
            }
            errors += conflictErrors(Set(scopes), path: "spec.scopes", value: goScopes(scopes))
        }
        // validateScopedResourceSelectorRequirement
        if let selector = spec.scopeSelector {
            let path = "spec.scopeSelector.matchExpressions"
            var seen: Set<String> = []
            for requirement in selector.matchExpressions ?? [] {
                if !ResourceNames.quotaScopes.contains(requirement.scopeName) {
                    errors.append(ServiceValidation.invalid(path + ".scopeName", .string(requirement.scopeName), "unsupported scope"))
                }
                for name in hardNames where ResourceNames.isStandardQuota(name) && !ResourceNames.isScope(requirement.scopeName, validFor: name) {
                    errors.append(ServiceValidation.invalid(path, goScopeSelector(selector), "unsupported scope applied to resource"))
                }
                if ["BestEffort", "NotBestEffort", "Terminating", "NotTerminating", "CrossNamespacePodAffinity"].contains(requirement.scopeName),
                   requirement.operator != "Exists" {
                    errors.append(ServiceValidation.invalid(path + ".operator", .string(requirement.operator),
                        "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"))
                }
                switch requirement.operator {
                case "In", "NotIn":
                    if (requirement.values ?? []).isEmpty {
                        errors.append(ServiceValidation.required(path + ".values", "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
                    }
                case "Exists", "DoesNotExist":
                    if let values = requirement.values, !values.isEmpty {
                        errors.append(ServiceValidation.invalid(path + ".values", goStrings(values),
                                                                "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
                    }
                default:
                    errors.append(ServiceValidation.invalid(path + ".operator", .string(requirement.operator), "not a valid selector operator"))
                }
                seen.insert(requirement.scopeName)
            }
            // Upstream reports the conflict with the (possibly empty) `scopes` as its value.
            errors += conflictErrors(seen, path: path, value: goScopes(spec.scopes))
        }
        return errors
    }

    /// BestEffort with NotBestEffort, Terminating with NotTerminating.
    private static func conflictErrors(_ scopes: Set<String>, path: String, value: ValidationError.BadValue) -> [ValidationError] {
        [["BestEffort", "NotBestEffort"], ["Terminating", "NotTerminating"]].compactMap { pair in
            scopes.isSuperset(of: pair) ? ServiceValidation.invalid(path, value, "conflicting scopes") : nil
        }
    }

    /// `ValidateResourceQuota` without the metadata (checked first by the strategy).
    static func quotaErrors(_ quota: ResourceQuota) -> [ValidationError] {
        specErrors(quota.spec ?? ResourceQuotaSpec()) + statusErrors(quota.status ?? ResourceQuotaStatus())
    }

    /// `ValidateResourceQuotaStatus`.
    static func statusErrors(_ status: ResourceQuotaStatus) -> [ValidationError] {
        quotaListErrors(status.hard, path: "status.hard") + quotaListErrors(status.used, path: "status.used")
    }

    /// `ValidateResourceQuotaUpdate`'s own rule: the scopes never change.
    static func scopeChangeErrors(_ quota: ResourceQuota, old: ResourceQuota) -> [ValidationError] {
        guard Set(quota.spec?.scopes ?? []) != Set(old.spec?.scopes ?? []) else { return [] }
        return [ServiceValidation.invalid("spec.scopes", goScopes(quota.spec?.scopes), "field is immutable")]
    }
}
