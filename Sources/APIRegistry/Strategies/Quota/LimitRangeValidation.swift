import APIMachinery
import Foundation
import KubeAPI

/// `ValidateLimitRange` of pkg/apis/core/validation/validation.go: the types (Container, Pod,
/// PersistentVolumeClaim or a qualified name), each at most once; resource names by type;
/// per resource min <= defaultRequest <= default <= max; maxLimitRequestRatio >= 1 and at most
/// max/min; no defaults for the Pod type; a storage bound for claims; default == defaultRequest
/// for resources that cannot be overcommitted.
enum LimitRangeValidation {
    static func errors(_ limitRange: LimitRange) -> [ValidationError] {
        var errors: [ValidationError] = []
        var types: Set<String> = []
        for (index, item) in (limitRange.spec?.limits ?? []).enumerated() {
            let path = "spec.limits[\(index)]"
            errors += typeErrors(item.type, path: path + ".type")
            if types.contains(item.type) {
                errors.append(ValidationError(type: .duplicate, field: path + ".type", badValue: .string(item.type)))
            }
            types.insert(item.type)
            errors += itemErrors(item, path: path)
        }
        return errors
    }

    /// `validateLimitRangeTypeName`.
    static func typeErrors(_ type: String, path: String) -> [ValidationError] {
        let messages = NameRules.qualifiedName(type)
        if !messages.isEmpty { return messages.map { ServiceValidation.invalid(path, .string(type), $0) } }
        if !type.contains("/"), !ResourceNames.limitRangeTypes.contains(type) {
            return [ServiceValidation.invalid(path, .string(type), "must be a standard limit type or fully qualified")]
        }
        return []
    }

    /// `validateLimitRangeResourceName`: container names for Pod and Container, any resource otherwise.
    static func nameErrors(_ type: String, _ name: String, path: String) -> [ValidationError] {
        type == LimitRangeItem.pod || type == LimitRangeItem.container
            ? QuotaValidation.containerResourceNameErrors(name, path: path)
            : QuotaValidation.resourceNameErrors(name, path: path)
    }

    private static func itemErrors(_ item: LimitRangeItem, path: String) -> [ValidationError] {
        var errors: [ValidationError] = []
        var keys: Set<String> = []
        func names(_ list: ResourceList?, _ field: String) {
            for name in (list ?? [:]).keys.sorted() {
                errors += nameErrors(item.type, name, path: "\(path).\(field)[\(name)]")
                keys.insert(name)
            }
        }
        let max = item.max ?? [:], min = item.min ?? [:], ratios = item.maxLimitRequestRatio ?? [:]
        var defaults: ResourceList = [:], defaultRequests: ResourceList = [:]
        names(item.max, "max")
        names(item.min, "min")
        if item.type == LimitRangeItem.pod {
            if !(item.default ?? [:]).isEmpty {
                errors.append(ServiceValidation.forbidden(path + ".default", "may not be specified when `type` is 'Pod'"))
            }
            if !(item.defaultRequest ?? [:]).isEmpty {
                errors.append(ServiceValidation.forbidden(path + ".defaultRequest", "may not be specified when `type` is 'Pod'"))
            }
        } else {
            names(item.default, "default")
            names(item.defaultRequest, "defaultRequest")
            defaults = item.default ?? [:]
            defaultRequests = item.defaultRequest ?? [:]
        }
        if item.type == LimitRangeItem.persistentVolumeClaim, min["storage"] == nil, max["storage"] == nil {
            errors.append(ServiceValidation.required(path + ".limits", "either minimum or maximum storage value is required, but neither was provided"))
        }
        names(item.maxLimitRequestRatio, "maxLimitRequestRatio")
        for name in keys.sorted() {
            let low = min[name], high = max[name], limit = defaults[name], request = defaultRequests[name], ratio = ratios[name]
            func invalid(_ field: String, _ value: Quantity, _ detail: String) {
                errors.append(ServiceValidation.invalid("\(path).\(field)[\(name)]", .string(value.description), detail))
            }
            if let low, let high, low > high {
                invalid("min", low, "min value \(low) is greater than max value \(high)")
            }
            if let request, let low, low > request {
                invalid("defaultRequest", request, "min value \(low) is greater than default request value \(request)")
            }
            if let request, let high, request > high {
                invalid("defaultRequest", request, "default request value \(request) is greater than max value \(high)")
            }
            if let request, let limit, request > limit {
                invalid("defaultRequest", request, "default request value \(request) is greater than default limit value \(limit)")
            }
            if let limit, let low, low > limit {
                invalid("default", low, "min value \(low) is greater than default value \(limit)")
            }
            if let limit, let high, limit > high {
                invalid("default", high, "default value \(limit) is greater than max value \(high)")
            }
            if let ratio, ratio < Quantity(value: 1) {
                invalid("maxLimitRequestRatio", ratio, "ratio \(ratio) is less than 1")
            }
            if let ratio, let low, let high {
                // Upstream compares in milli-units when all three fit, whole units otherwise.
                let milli = ratio.value < maxMilliValue && low.value < maxMilliValue && high.value < maxMilliValue
                let ratioValue = milli ? Double(ratio.milliValue) / 1000 : Double(ratio.value)
                let bound = milli ? Double(high.milliValue) / Double(low.milliValue) : Double(high.value) / Double(low.value)
                if ratioValue > bound {
                    invalid("maxLimitRequestRatio", ratio, "ratio \(ratio) is greater than max/min = \(String(format: "%f", bound))")
                }
            }
            if !ResourceNames.isOvercommitAllowed(name), let limit, let request, limit != request {
                invalid("defaultRequest", request, "default value \(limit) must equal to defaultRequest value \(request) in \(name)")
            }
        }
        return errors
    }

    /// `resource.MaxMilliValue`: the largest value whose milli-value fits in an int64.
    static let maxMilliValue = Int64.max / 1000
}
