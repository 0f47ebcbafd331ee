import APIMachinery
import KubeAPI

/// `core/v1` ResourceQuotas (pkg/registry/core/resourcequota/strategy.go): the status is
/// cleared on create and kept on updates of the main resource (only the controller and the
/// ResourceQuota admission plugin write it, through `resourcequotas/status`); the spec is
/// validated with `ValidateResourceQuota` and its scopes may not change. Quantities are stored
/// in their canonical form, as upstream's decoder leaves them.
struct ResourceQuotaStrategy: ResourceStrategy {
    var validatesMetadata: Bool { true }

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        var (quota, warnings) = try Self.decode(object, validation: context.fieldValidation)
        quota.status = nil
        object.fields["status"] = nil
        let errors = ObjectValidation.validateMetadata(quota.metadata, namespaced: true, nameRule: .dns1123Subdomain)
            + QuotaValidation.quotaErrors(quota)
        guard errors.isEmpty else { throw Self.invalid(quota, errors) }
        if let spec = quota.spec { object.fields["spec"] = try TypedCodec.encode(spec) }
        return warnings
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (quota, warnings) = try Self.decode(object, validation: context.fieldValidation)
        let (oldQuota, _) = try Self.decode(old, validation: .ignore)
        object.fields["status"] = old.fields["status"]
        let errors = ObjectValidation.validateMetadata(quota.metadata, namespaced: true, nameRule: .dns1123Subdomain)
            + QuotaValidation.specErrors(quota.spec ?? ResourceQuotaSpec()) + QuotaValidation.scopeChangeErrors(quota, old: oldQuota)
        guard errors.isEmpty else { throw Self.invalid(quota, errors) }
        if let spec = quota.spec { object.fields["spec"] = try TypedCodec.encode(spec) }
        return warnings
    }

    /// `ValidateResourceQuotaStatusUpdate`: names and values of status.hard and status.used.
    func prepareForStatusUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (quota, warnings) = try Self.decode(object, validation: context.fieldValidation)
        let errors = QuotaValidation.statusErrors(quota.status ?? ResourceQuotaStatus())
        guard errors.isEmpty else { throw Self.invalid(quota, errors) }
        if let status = quota.status { object.fields["status"] = try TypedCodec.encode(status) }
        return warnings
    }

    static func decode(_ object: KubeObject, validation: FieldValidation) throws(APIError) -> (ResourceQuota, [String]) {
        try TypedCodec.decode(ResourceQuota.self, from: object.json, kind: "ResourceQuota", version: "v1", validation: validation)
    }

    private static func invalid(_ quota: ResourceQuota, _ errors: [ValidationError]) -> APIError {
        APIError.invalid(kind: "ResourceQuota", group: "", name: quota.metadata.name ?? "", errors: errors)
    }
}
