import APIMachinery
import KubeAPI

/// DaemonSets (apps/v1): `SetDefaults_DaemonSet` (RollingUpdate with maxUnavailable 1 and
/// maxSurge 0, revisionHistoryLimit 10) and `ValidateDaemonSet` / `ValidateDaemonSetUpdate`
/// (k8s.io/kubernetes/pkg/apis/apps/validation) with their messages. Status is kept from the
/// stored object on update (the controller writes the status subresource).
struct DaemonSetStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = nil
        return try prepare(&object, context: context)
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = old.fields["status"]
        if let oldSelector = old.value(at: ["spec", "selector"]), object.value(at: ["spec", "selector"]) != oldSelector {
            throw APIError.invalid(kind: "DaemonSet", group: "apps", name: object.name ?? "", errors: [
                ValidationError(type: .invalid, field: "spec.selector",
                                badValue: .json(WorkloadStrategy.render(oldSelector: object.value(at: ["spec", "selector"]))),
                                detail: "field is immutable"),
            ])
        }
        return try prepare(&object, context: context)
    }

    private func prepare(_ object: inout KubeObject, context: StrategyContext) throws(APIError) -> [String] {
        if object.string(at: ["spec", "updateStrategy", "type"]) == nil {
            object.set(.string("RollingUpdate"), at: ["spec", "updateStrategy", "type"])
        }
        if object.string(at: ["spec", "updateStrategy", "type"]) == "RollingUpdate" {
            if object.value(at: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"]) == nil {
                object.set(.int(1), at: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"])
            }
            if object.value(at: ["spec", "updateStrategy", "rollingUpdate", "maxSurge"]) == nil {
                object.set(.int(0), at: ["spec", "updateStrategy", "rollingUpdate", "maxSurge"])
            }
        }
        if object.value(at: ["spec", "revisionHistoryLimit"]) == nil {
            object.set(.int(10), at: ["spec", "revisionHistoryLimit"])
        }
        var errors: [ValidationError] = []
        errors += Self.validateUpdateStrategy(object)
        for key in ["minReadySeconds", "revisionHistoryLimit"] {
            if let value = object.value(at: ["spec", key])?.intValue, value < 0 {
                errors.append(ValidationError(type: .invalid, field: "spec.\(key)", badValue: .int(value), detail: "must be greater than or equal to 0"))
            }
        }
        let templateSpec = object.value(at: ["spec", "template", "spec"]) ?? .object([:])
        let (spec, warnings) = try TypedCodec.decode(PodSpec.self, from: templateSpec, kind: "DaemonSet", version: "apps/v1",
                                                     pathPrefix: "spec.template.spec.", validation: context.fieldValidation)
        let defaulted = spec.withTemplateDefaults()
        errors += ObjectValidation.validatePodTemplateSpec(defaulted, path: "spec.template.spec")
        if let policy = defaulted.restartPolicy, policy != "Always" {
            errors.append(ValidationError(type: .notSupported, field: "spec.template.spec.restartPolicy", badValue: .string(policy),
                                          detail: "supported values: \"Always\""))
        }
        object.set(try TypedCodec.encode(defaulted), at: ["spec", "template", "spec"])
        errors += try WorkloadStrategy.templateSelectorErrors(object, subject: "daemonset")
        guard errors.isEmpty else { throw APIError.invalid(kind: "DaemonSet", group: "apps", name: object.name ?? "", errors: errors) }
        return warnings
    }

    /// `ValidateDaemonSetUpdateStrategy`.
    static func validateUpdateStrategy(_ object: KubeObject) -> [ValidationError] {
        let type = object.string(at: ["spec", "updateStrategy", "type"]) ?? ""
        switch type {
        case "OnDelete":
            return []
        case "RollingUpdate":
            let path = "spec.updateStrategy.rollingUpdate."
            var errors: [ValidationError] = []
            var values: [String: Int64] = [:]
            for key in ["maxUnavailable", "maxSurge"] {
                guard let value = object.value(at: ["spec", "updateStrategy", "rollingUpdate", key]) else { continue }
                if let number = value.intValue {
                    values[key] = number
                    if number < 0 {
                        errors.append(ValidationError(type: .invalid, field: path + key, badValue: .int(number), detail: "must be greater than or equal to 0"))
                    }
                } else if let text = value.stringValue, text.hasSuffix("%"), let percent = Int64(text.dropLast()), percent >= 0 {
                    values[key] = percent
                    if percent > 100 {
                        errors.append(ValidationError(type: .invalid, field: path + key, badValue: .string(text), detail: "must not be greater than 100%"))
                    }
                } else {
                    errors.append(ValidationError(type: .invalid, field: path + key, badValue: JobStrategy.badValue(value),
                                                  detail: "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"))
                }
            }
            if (values["maxUnavailable"] ?? 0) == 0, (values["maxSurge"] ?? 0) == 0, errors.isEmpty {
                errors.append(ValidationError(type: .invalid, field: path + "maxUnavailable", badValue: .int(0),
                                              detail: "may not be 0 when `maxSurge` is 0"))
            }
            return errors
        default:
            return [ValidationError(type: .notSupported, field: "spec.updateStrategy.type", badValue: .string(type),
                                    detail: "supported values: \"OnDelete\", \"RollingUpdate\"")]
        }
    }
}
