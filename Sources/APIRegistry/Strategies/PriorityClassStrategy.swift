import APIMachinery
import KubeAPI

/// `scheduling.k8s.io/v1` PriorityClasses (pkg/registry/scheduling/priorityclass/strategy.go):
/// `preemptionPolicy` defaulted to PreemptLowerPriority (`SetDefaults_PriorityClass`), then
/// `ValidatePriorityClass` on create and `ValidatePriorityClassUpdate` on update
/// (pkg/apis/scheduling/validation/validation.go) with their messages. The Priority admission
/// plugin's check that only one class is the global default runs after this
/// (`PriorityAdmission.validateClass`); the system classes' protection from deletion is in
/// `APIService.delete`.
struct PriorityClassStrategy: ResourceStrategy {
    static let kind = "PriorityClass"
    static let group = "scheduling.k8s.io"

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (priorityClass, warnings) = try Self.decode(object, validation: context.fieldValidation)
        let errors = Self.validate(priorityClass)
        guard errors.isEmpty else { throw Self.invalid(priorityClass, errors) }
        try Self.write(priorityClass, into: &object)
        return warnings
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (priorityClass, warnings) = try Self.decode(object, validation: context.fieldValidation)
        let (oldClass, _) = try Self.decode(old, validation: .ignore)
        let errors = Self.validateUpdate(priorityClass, old: oldClass)
        guard errors.isEmpty else { throw Self.invalid(priorityClass, errors) }
        try Self.write(priorityClass, into: &object)
        return warnings
    }

    /// The class with `SetDefaults_PriorityClass` applied: a missing preemptionPolicy is
    /// PreemptLowerPriority (an empty one stays, and validation refuses it).
    static func decode(_ object: KubeObject, validation: FieldValidation) throws(APIError) -> (PriorityClass, [String]) {
        var (priorityClass, warnings) = try TypedCodec.decode(PriorityClass.self, from: object.json, kind: kind, version: "v1",
                                                              validation: validation)
        if priorityClass.preemptionPolicy == nil { priorityClass.preemptionPolicy = PriorityClass.preemptLowerPriority }
        return (priorityClass, warnings)
    }

    /// `ValidatePriorityClass` (the metadata is the store's): a `system-` name must be one of
    /// the system classes with its value and globalDefault; any other class's value is at most
    /// `HighestUserDefinablePriority`; the preemption policy one of the two.
    static func validate(_ priorityClass: PriorityClass) -> [ValidationError] {
        var errors: [ValidationError] = []
        let name = priorityClass.metadata.name ?? ""
        if name.hasPrefix(PriorityClass.systemPrefix) {
            if let problem = systemClassProblem(priorityClass) {
                errors.append(ValidationError(type: .forbidden, field: "metadata.name", detail: """
                    priority class names with '\(PriorityClass.systemPrefix)' prefix are reserved for system use only. error: \(problem)
                    """))
            }
        } else if priorityClass.value > PriorityClass.highestUserDefinablePriority {
            errors.append(ValidationError(type: .forbidden, field: "value",
                                          detail: "maximum allowed value of a user defined priority is \(PriorityClass.highestUserDefinablePriority)"))
        }
        if let policy = priorityClass.preemptionPolicy {
            errors += preemptionPolicyErrors(policy, path: "preemptionPolicy")
        }
        return errors
    }

    /// `ValidatePriorityClassUpdate`: value and preemptionPolicy never change (the name is the
    /// store's metadata check).
    static func validateUpdate(_ priorityClass: PriorityClass, old: PriorityClass) -> [ValidationError] {
        var errors: [ValidationError] = []
        if priorityClass.value != old.value {
            errors.append(ValidationError(type: .forbidden, field: "value", detail: "may not be changed in an update."))
        }
        if priorityClass.preemptionPolicy != old.preemptionPolicy {
            errors.append(ValidationError(type: .invalid, field: "preemptionPolicy",
                                          badValue: priorityClass.preemptionPolicy.map { .string($0) } ?? .json("null"),
                                          detail: "field is immutable"))
        }
        return errors
    }

    /// `IsKnownSystemPriorityClass`'s error, nil when the class is a known system class as it
    /// must be (pkg/apis/scheduling/v1/helpers.go).
    static func systemClassProblem(_ priorityClass: PriorityClass) -> String? {
        let name = priorityClass.metadata.name ?? ""
        guard let known = PriorityClass.systemClasses.first(where: { $0.metadata.name == name }) else {
            return "\(name) is not a known system priority class"
        }
        if known.value != priorityClass.value { return "value of \(name) PriorityClass must be \(known.value)" }
        if (priorityClass.globalDefault ?? false) != (known.globalDefault ?? false) {
            return "globalDefault of \(name) PriorityClass must be \(known.globalDefault ?? false)"
        }
        return nil
    }

    /// `ValidatePreemptionPolicy` (pkg/apis/core/validation), shared with pods.
    static func preemptionPolicyErrors(_ policy: String, path: String) -> [ValidationError] {
        switch policy {
        case PriorityClass.preemptLowerPriority, PriorityClass.preemptNever: return []
        case "": return [ValidationError(type: .required, field: path)]
        default:
            return [ValidationError(type: .notSupported, field: path, badValue: .string(policy),
                                    detail: "supported values: \"PreemptLowerPriority\", \"Never\"")]
        }
    }

    /// The class's own fields back into the object (metadata is the store's).
    private static func write(_ priorityClass: PriorityClass, into object: inout KubeObject) throws(APIError) {
        let encoded = try TypedCodec.encode(priorityClass).objectValue ?? [:]
        for key in ["value", "globalDefault", "description", "preemptionPolicy"] {
            object.fields[key] = encoded[key]
        }
    }

    private static func invalid(_ priorityClass: PriorityClass, _ errors: [ValidationError]) -> APIError {
        APIError.invalid(kind: kind, group: group, name: priorityClass.metadata.name ?? "", errors: errors)
    }
}
