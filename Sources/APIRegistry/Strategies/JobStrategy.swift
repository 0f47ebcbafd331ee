import APIMachinery
import KubeAPI

/// Jobs (batch/v1): `SetDefaults_Job` (k8s.io/kubernetes/pkg/apis/batch/v1/defaults.go), the
/// generated selector of the job registry's `PrepareForCreate` (pkg/registry/batch/job/strategy.go)
/// and the checks of `ValidateJob` / `ValidateJobSpecUpdate` (pkg/apis/batch/validation) with
/// their messages. Status is kept from the stored object on update (the controller writes the
/// status subresource).
struct JobStrategy: ResourceStrategy {
    /// Label and selector keys of the generated selector (k8s.io/api/batch/v1 types.go).
    static let controllerUIDLabel = "batch.kubernetes.io/controller-uid"
    static let legacyControllerUIDLabel = "controller-uid"
    static let jobNameLabel = "batch.kubernetes.io/job-name"
    static let legacyJobNameLabel = "job-name"

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = nil
        if object.value(at: ["spec", "manualSelector"])?.boolValue != true {
            Self.generateSelector(&object)
        }
        return try Self.prepare(&object, path: "spec.", at: ["spec"], kind: "Job", name: object.name ?? "", context: context)
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = old.fields["status"]
        let warnings = try Self.prepare(&object, path: "spec.", at: ["spec"], kind: "Job", name: object.name ?? "", context: context)
        // ValidateJobSpecUpdate: what identifies the pods of a Job does not change under it.
        var errors: [ValidationError] = []
        var immutable = ["selector", "completionMode", "completions", "podFailurePolicy", "backoffLimitPerIndex", "manualSelector"]
        // The template may change only while the Job is suspended (mutable scheduling directives).
        let suspended = old.value(at: ["spec", "suspend"])?.boolValue == true
        if !suspended { immutable.append("template") }
        for key in immutable where object.value(at: ["spec", key]) != old.value(at: ["spec", key]) {
            let value = object.value(at: ["spec", key])
            errors.append(ValidationError(type: .invalid, field: "spec.\(key)", badValue: Self.badValue(value), detail: "field is immutable"))
        }
        guard errors.isEmpty else { throw APIError.invalid(kind: "Job", group: "batch", name: object.name ?? "", errors: errors) }
        return warnings
    }

    /// `generateSelector`: the job-name labels on the template (unless the user set them) and
    /// a selector on the controller-uid label, which is unique to this Job. A user's
    /// conflicting choice is left in place for validation to reject.
    static func generateSelector(_ object: inout KubeObject) {
        let name = JSONValue.string(object.name ?? "")
        let uid = JSONValue.string(object.uid ?? "")
        var labels = object.value(at: ["spec", "template", "metadata", "labels"])?.objectValue ?? [:]
        for key in [legacyJobNameLabel, jobNameLabel] where labels[key] == nil { labels[key] = name }
        for key in [legacyControllerUIDLabel, controllerUIDLabel] where labels[key] == nil { labels[key] = uid }
        object.set(.object(labels), at: ["spec", "template", "metadata", "labels"])
        var matchLabels = object.value(at: ["spec", "selector", "matchLabels"])?.objectValue ?? [:]
        if matchLabels[controllerUIDLabel] == nil { matchLabels[controllerUIDLabel] = uid }
        object.set(.object(matchLabels), at: ["spec", "selector", "matchLabels"])
    }

    /// Defaults and validation of a JobSpec found at `at` (a Job's `spec`, or a CronJob's
    /// `spec.jobTemplate.spec`), with field paths starting with `path`.
    static func prepare(_ object: inout KubeObject, path: String, at: [String], kind: String, name: String,
                        context: StrategyContext, generatedSelector: Bool = true, defaults: Bool = true) throws(APIError) -> [String] {
        var errors = try validateSpec(&object, path: path, at: at, defaults: defaults)
        let warnings = try validateTemplate(&object, path: path, at: at, kind: kind, context: context, generatedSelector: generatedSelector,
                                            errors: &errors)
        guard errors.isEmpty else { throw APIError.invalid(kind: kind, group: "batch", name: name, errors: errors) }
        return warnings
    }

    /// SetDefaults_Job (only for a Job: a CronJob's jobTemplate is not defaulted) and the
    /// counts and modes of ValidateJobSpec.
    private static func validateSpec(_ object: inout KubeObject, path: String, at: [String], defaults: Bool) throws(APIError) -> [ValidationError] {
        var errors: [ValidationError] = []
        if defaults { setDefaults(&object, at: at) }
        try checkCounts(object, path: path, at: at, errors: &errors)
        return errors
    }

    private static func setDefaults(_ object: inout KubeObject, at: [String]) {
        if object.value(at: at + ["completions"]) == nil, object.value(at: at + ["parallelism"]) == nil {
            object.set(.int(1), at: at + ["completions"])
        }
        if object.value(at: at + ["parallelism"]) == nil { object.set(.int(1), at: at + ["parallelism"]) }
        if object.value(at: at + ["backoffLimit"]) == nil {
            object.set(.int(object.value(at: at + ["backoffLimitPerIndex"]) == nil ? 6 : Int64(Int32.max)), at: at + ["backoffLimit"])
        }
        if object.value(at: at + ["completionMode"]) == nil { object.set(.string("NonIndexed"), at: at + ["completionMode"]) }
        if object.value(at: at + ["suspend"]) == nil { object.set(.bool(false), at: at + ["suspend"]) }
        if object.value(at: at + ["podReplacementPolicy"]) == nil {
            let policy = object.value(at: at + ["podFailurePolicy"]) == nil ? "TerminatingOrFailed" : "Failed"
            object.set(.string(policy), at: at + ["podReplacementPolicy"])
        }
    }

    private static func checkCounts(_ object: KubeObject, path: String, at: [String], errors: inout [ValidationError]) throws(APIError) {
        // ValidateJobSpec: counts and durations are never negative.
        for key in ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"] {
            guard let value = object.value(at: at + [key]), value != .null else { continue }
            guard let number = value.intValue else {
                errors.append(ValidationError(type: .invalid, field: path + key, badValue: badValue(value), detail: "must be an integer"))
                continue
            }
            if number < 0 {
                errors.append(ValidationError(type: .invalid, field: path + key, badValue: .int(number), detail: "must be greater than or equal to 0"))
            }
        }
        let mode = object.string(at: at + ["completionMode"]) ?? "NonIndexed"
        switch mode {
        case "NonIndexed":
            if object.value(at: at + ["backoffLimitPerIndex"]) != nil {
                errors.append(ValidationError(type: .forbidden, field: path + "backoffLimitPerIndex",
                                              detail: "requires indexed completion mode"))
            }
        case "Indexed":
            if object.value(at: at + ["completions"])?.intValue == nil {
                errors.append(ValidationError(type: .required, field: path + "completions", detail: "when completion mode is Indexed"))
            }
            // maxParallelismForIndexedJob and maxCompletionsForIndexedJob upstream.
            if let completions = object.value(at: at + ["completions"])?.intValue, completions > 100_000 {
                errors.append(ValidationError(type: .invalid, field: path + "completions", badValue: .int(completions),
                                              detail: "must be less than or equal to 100000 when completion mode is Indexed"))
            }
            if let parallelism = object.value(at: at + ["parallelism"])?.intValue, parallelism > 100_000 {
                errors.append(ValidationError(type: .invalid, field: path + "parallelism", badValue: .int(parallelism),
                                              detail: "must be less than or equal to 100000 when completion mode is Indexed"))
            }
        default:
            errors.append(ValidationError(type: .notSupported, field: path + "completionMode", badValue: .string(mode),
                                          detail: "supported values: \"NonIndexed\", \"Indexed\""))
        }
        if let policy = object.string(at: at + ["podReplacementPolicy"]), policy != "TerminatingOrFailed", policy != "Failed" {
            errors.append(ValidationError(type: .notSupported, field: path + "podReplacementPolicy", badValue: .string(policy),
                                          detail: "supported values: \"Failed\", \"TerminatingOrFailed\""))
        }
    }

    private static func validateTemplate(_ object: inout KubeObject, path: String, at: [String], kind: String, context: StrategyContext,
                                         generatedSelector: Bool, errors: inout [ValidationError]) throws(APIError) -> [String] {
        // The pod template: defaults and validation as for a pod, restartPolicy OnFailure or Never.
        let templateSpec = object.value(at: at + ["template", "spec"]) ?? .object([:])
        let (spec, warnings) = try TypedCodec.decode(PodSpec.self, from: templateSpec, kind: kind, version: "batch/v1",
                                                     pathPrefix: path + "template.spec.", validation: context.fieldValidation)
        let defaulted = spec.withTemplateDefaults()
        errors += ObjectValidation.validatePodTemplateSpec(defaulted, path: path + "template.spec")
        let restartPolicy = defaulted.restartPolicy ?? ""
        if restartPolicy != "OnFailure", restartPolicy != "Never" {
            errors.append(ValidationError(type: .notSupported, field: path + "template.spec.restartPolicy", badValue: .string(restartPolicy),
                                          detail: "supported values: \"OnFailure\", \"Never\""))
        }
        object.set(try TypedCodec.encode(defaulted), at: at + ["template", "spec"])

        // The selector: required on a Job (generated unless manualSelector), matching the template.
        let templateLabels = (object.value(at: at + ["template", "metadata", "labels"])?.objectValue ?? [:]).compactMapValues(\.stringValue)
        errors += ObjectValidation.validateLabels(templateLabels, path: path + "template.metadata.labels")
        if let selectorValue = object.value(at: at + ["selector"]) {
            let selector = try LabelSelector(object: selectorValue)
            if selector.isEmpty {
                errors.append(ValidationError(type: .invalid, field: path + "selector", badValue: badValue(selectorValue),
                                              detail: "empty selector is invalid for job"))
            } else if !selector.matches(templateLabels) {
                errors.append(ValidationError(type: .invalid, field: path + "template.metadata.labels",
                                              badValue: .json(TypedCodec.goMap(templateLabels)),
                                              detail: "`selector` does not match template `labels`"))
            }
            // ValidateGeneratedSelector: the selector must select a pod labelled with nothing but
            // this Job's uid, so a selector the user wrote (without manualSelector) is refused.
            if generatedSelector, kind == "Job", object.value(at: at + ["manualSelector"])?.boolValue != true {
                let uid = object.uid ?? ""
                if !selector.matches([controllerUIDLabel: uid]) || templateLabels[controllerUIDLabel] != uid {
                    errors.append(ValidationError(type: .invalid, field: path + "selector", badValue: badValue(selectorValue),
                                                  detail: "`selector` not auto-generated"))
                }
            }
        } else if generatedSelector {
            errors.append(ValidationError(type: .required, field: path + "selector"))
        }
        return warnings
    }

    static func badValue(_ value: JSONValue?) -> ValidationError.BadValue {
        guard let value else { return .json("null") }
        if let number = value.intValue { return .int(number) }
        if let text = value.stringValue { return .string(text) }
        return .json(String(decoding: JSONSerializer.serialize(value), as: UTF8.self))
    }
}
