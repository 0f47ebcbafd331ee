import APIMachinery
import KubeAPI

/// Deployments and ReplicaSets (apps/v1): the defaults of `SetDefaults_Deployment` and
/// `SetDefaults_ReplicaSet`, pod template defaults and validation, and the selector checks.
/// Status is kept from the stored object on update (controllers write the status subresource).
struct WorkloadStrategy: ResourceStrategy {
    let kind: String

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = nil
        return try prepare(&object, context: context)
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = old.fields["status"]
        let warnings = try prepare(&object, context: context)
        if let oldSelector = old.value(at: ["spec", "selector"]), object.value(at: ["spec", "selector"]) != oldSelector {
            throw APIError.invalid(kind: kind, group: "apps", name: object.name ?? "", errors: [
                ValidationError(type: .invalid, field: "spec.selector", badValue: .json(Self.render(oldSelector: object.value(at: ["spec", "selector"]))),
                                detail: "field is immutable"),
            ])
        }
        return warnings
    }

    private func prepare(_ object: inout KubeObject, context: StrategyContext) throws(APIError) -> [String] {
        var warnings: [String] = []
        var errors: [ValidationError] = []
        if object.value(at: ["spec", "replicas"]) == nil {
            object.set(.int(1), at: ["spec", "replicas"])
        }
        if kind == "Deployment" {
            if object.string(at: ["spec", "strategy", "type"]) == nil {
                object.set(.string("RollingUpdate"), at: ["spec", "strategy", "type"])
            }
            if object.string(at: ["spec", "strategy", "type"]) == "RollingUpdate" {
                for key in ["maxUnavailable", "maxSurge"] where object.value(at: ["spec", "strategy", "rollingUpdate", key]) == nil {
                    object.set(.string("25%"), at: ["spec", "strategy", "rollingUpdate", key])
                }
            }
            if object.value(at: ["spec", "revisionHistoryLimit"]) == nil {
                object.set(.int(10), at: ["spec", "revisionHistoryLimit"])
            }
            if object.value(at: ["spec", "progressDeadlineSeconds"]) == nil {
                object.set(.int(600), at: ["spec", "progressDeadlineSeconds"])
            }
        }
        if kind == "Deployment" {
            errors += Self.validateDeploymentSpec(object)
        }
        if let seconds = object.value(at: ["spec", "minReadySeconds"])?.intValue, seconds < 0 {
            errors.append(ValidationError(type: .invalid, field: "spec.minReadySeconds", badValue: .int(seconds),
                                          detail: "must be greater than or equal to 0"))
        }
        if let replicas = object.value(at: ["spec", "replicas"])?.intValue, replicas < 0 {
            errors.append(ValidationError(type: .invalid, field: "spec.replicas", badValue: .int(replicas),
                                          detail: "must be greater than or equal to 0"))
        }

        // The pod template: defaults and validation as for a pod, with its own paths.
        let templateSpec = object.value(at: ["spec", "template", "spec"]) ?? .object([:])
        let (spec, specWarnings) = try TypedCodec.decode(PodSpec.self, from: templateSpec, kind: kind, version: "apps/v1",
                                                         pathPrefix: "spec.template.spec.", validation: context.fieldValidation)
        warnings += specWarnings
        let defaulted = spec.withTemplateDefaults()
        errors += ObjectValidation.validatePodTemplateSpec(defaulted, path: "spec.template.spec")
        if let policy = defaulted.restartPolicy, policy != "Always" {
            errors.append(ValidationError(type: .notSupported, field: "spec.template.spec.restartPolicy", badValue: .string(policy),
                                          detail: "supported values: \"Always\""))
        }
        object.set(try TypedCodec.encode(defaulted), at: ["spec", "template", "spec"])

        errors += try Self.templateSelectorErrors(object, subject: "deployment")
        guard errors.isEmpty else {
            throw APIError.invalid(kind: kind, group: "apps", name: object.name ?? "", errors: errors)
        }
        return warnings
    }

    /// `ValidateDeploymentStrategy` and the Deployment-only fields of `ValidateDeploymentSpec`
    /// (k8s.io/kubernetes/pkg/apis/apps/validation), with their messages.
    /// apps/v1's selector rules, shared by Deployments, ReplicaSets, DaemonSets and StatefulSets:
    /// the template's labels are valid, and the selector exists (null counts as missing),
    /// selects something ("empty selector is invalid for SUBJECT"; upstream says "deployment"
    /// for ReplicaSets too) and matches the template's labels.
    static func templateSelectorErrors(_ object: KubeObject, subject: String) throws(APIError) -> [ValidationError] {
        let templateLabels = (object.value(at: ["spec", "template", "metadata", "labels"])?.objectValue ?? [:]).compactMapValues(\.stringValue)
        var errors = ObjectValidation.validateLabels(templateLabels, path: "spec.template.metadata.labels")
        guard let selectorValue = object.value(at: ["spec", "selector"]), selectorValue != .null else {
            return errors + [ValidationError(type: .required, field: "spec.selector")]
        }
        let selector = try LabelSelector(object: selectorValue)
        if selector.isEmpty {
            errors.append(ValidationError(type: .invalid, field: "spec.selector", badValue: .json(render(oldSelector: selectorValue)),
                                          detail: "empty selector is invalid for \(subject)"))
        } else if !selector.matches(templateLabels) {
            errors.append(ValidationError(type: .invalid, field: "spec.template.metadata.labels",
                                          badValue: .json(TypedCodec.goMap(templateLabels)),
                                          detail: "`selector` does not match template `labels`"))
        }
        return errors
    }

    static func validateDeploymentSpec(_ object: KubeObject) -> [ValidationError] {
        var errors: [ValidationError] = []
        let type = object.string(at: ["spec", "strategy", "type"]) ?? ""
        let rollingUpdate = object.value(at: ["spec", "strategy", "rollingUpdate"])
        switch type {
        case "Recreate":
            if let rollingUpdate, rollingUpdate != .null {
                errors.append(ValidationError(type: .forbidden, field: "spec.strategy.rollingUpdate",
                                              detail: "may not be specified when strategy `type` is 'Recreate'"))
            }
        case "RollingUpdate":
            let path = "spec.strategy.rollingUpdate."
            var zero = true
            for key in ["maxUnavailable", "maxSurge"] {
                guard let value = rollingUpdate?[key] else { continue }
                if let number = value.intValue {
                    if number < 0 {
                        errors.append(ValidationError(type: .invalid, field: path + key, badValue: .int(number),
                                                      detail: "must be greater than or equal to 0"))
                    }
                    if number != 0 { zero = false }
                } else if let text = value.stringValue, text.hasSuffix("%"), let percent = Int(text.dropLast()), percent >= 0 {
                    if percent != 0 { zero = false }
                    if key == "maxUnavailable", percent > 100 {
                        errors.append(ValidationError(type: .invalid, field: path + key, badValue: .string(text),
                                                      detail: "must not be greater than 100%"))
                    }
                } else {
                    zero = false
                    errors.append(ValidationError(type: .invalid, field: path + key, badValue: .json(String(decoding: JSONSerializer.serialize(value), as: UTF8.self)),
                                                  detail: "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"))
                }
            }
            if zero {
                let badValue: ValidationError.BadValue = rollingUpdate?["maxUnavailable"]?.stringValue.map { .string($0) } ?? .int(0)
                errors.append(ValidationError(type: .invalid, field: path + "maxUnavailable", badValue: badValue,
                                              detail: "may not be 0 when `maxSurge` is 0"))
            }
        default:
            errors.append(ValidationError(type: .notSupported, field: "spec.strategy.type", badValue: .string(type),
                                          detail: "supported values: \"Recreate\", \"RollingUpdate\""))
        }
        if let limit = object.value(at: ["spec", "revisionHistoryLimit"])?.intValue, limit < 0 {
            errors.append(ValidationError(type: .invalid, field: "spec.revisionHistoryLimit", badValue: .int(limit),
                                          detail: "must be greater than or equal to 0"))
        }
        if let deadline = object.value(at: ["spec", "progressDeadlineSeconds"])?.intValue {
            if deadline < 0 {
                errors.append(ValidationError(type: .invalid, field: "spec.progressDeadlineSeconds", badValue: .int(deadline),
                                              detail: "must be greater than or equal to 0"))
            }
            if deadline <= object.value(at: ["spec", "minReadySeconds"])?.intValue ?? 0 {
                errors.append(ValidationError(type: .invalid, field: "spec.progressDeadlineSeconds", badValue: .int(deadline),
                                              detail: "must be greater than minReadySeconds"))
            }
        }
        return errors
    }

    /// Go's `%#v` of a LabelSelector, close enough for messages.
    static func render(oldSelector selector: JSONValue?) -> String {
        let labels = (selector?["matchLabels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        return "v1.LabelSelector{MatchLabels:\(labels.isEmpty ? "map[string]string(nil)" : TypedCodec.goMap(labels)), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
    }
}
