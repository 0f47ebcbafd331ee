import APIMachinery
import KubeAPI

/// `core/v1` LimitRanges (pkg/registry/core/limitrange/strategy.go): Container items get
/// their defaults (`SetDefaults_LimitRangeItem`), then `ValidateLimitRange` on create and
/// update; quantities stored canonical.
struct LimitRangeStrategy: ResourceStrategy {
    var validatesMetadata: Bool { true }

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        try prepare(&object, context: context)
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        try prepare(&object, context: context)
    }

    private func prepare(_ object: inout KubeObject, context: StrategyContext) throws(APIError) -> [String] {
        var (limitRange, warnings) = try TypedCodec.decode(LimitRange.self, from: object.json, kind: "LimitRange", version: "v1",
                                                           validation: context.fieldValidation)
        if var spec = limitRange.spec, let limits = spec.limits {
            spec.limits = limits.map(Self.withDefaults)
            limitRange.spec = spec
        }
        let errors = ObjectValidation.validateMetadata(limitRange.metadata, namespaced: true, nameRule: .dns1123Subdomain)
            + LimitRangeValidation.errors(limitRange)
        guard errors.isEmpty else {
            throw APIError.invalid(kind: "LimitRange", group: "", name: limitRange.metadata.name ?? "", errors: errors)
        }
        if let spec = limitRange.spec { object.fields["spec"] = try TypedCodec.encode(spec) }
        return warnings
    }

    /// `SetDefaults_LimitRangeItem`, for Container items: the default limit is the max, the
    /// default request the default limit, else the min, where unset.
    static func withDefaults(_ item: LimitRangeItem) -> LimitRangeItem {
        guard item.type == LimitRangeItem.container else { return item }
        var item = item
        var limits = item.default ?? [:], requests = item.defaultRequest ?? [:]
        for (name, value) in item.max ?? [:] where limits[name] == nil { limits[name] = value }
        for (name, value) in limits where requests[name] == nil { requests[name] = value }
        for (name, value) in item.min ?? [:] where requests[name] == nil { requests[name] = value }
        item.default = limits.isEmpty ? item.default : limits
        item.defaultRequest = requests.isEmpty ? item.defaultRequest : requests
        return item
    }
}
