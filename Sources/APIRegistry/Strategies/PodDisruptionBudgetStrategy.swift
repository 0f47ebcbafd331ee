import APIMachinery
import Foundation
import KubeAPI

/// PodDisruptionBudgets (policy/v1): pkg/registry/policy/poddisruptionbudget/strategy.go and
/// `ValidatePodDisruptionBudget` / `ValidatePodDisruptionBudgetStatusUpdate`
/// (pkg/apis/policy/validation/validation.go) with their messages. A new budget's status is
/// reset (the four counts zero: nothing may be evicted until the disruption controller has
/// looked); updates keep the stored status; the status subresource keeps the spec.
struct PodDisruptionBudgetStrategy: ResourceStrategy {
    static let kind = "PodDisruptionBudget"
    static let group = "policy"
    static let supportedPolicies = [PodDisruptionBudget.alwaysAllow, PodDisruptionBudget.ifHealthyBudget]

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = try TypedCodec.encode(PodDisruptionBudgetStatus())
        return try validate(object, context: context)
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = old.fields["status"]
        return try validate(object, context: context)
    }

    func prepareForStatusUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (status, warnings) = try TypedCodec.decode(PodDisruptionBudgetStatus.self, from: object.fields["status"] ?? .object([:]),
                                                       kind: Self.kind, version: "v1", pathPrefix: "status.",
                                                       validation: context.fieldValidation)
        var errors = Self.conditionErrors(object.value(at: ["status", "conditions"])?.arrayValue ?? [], path: "status.conditions")
        let counts: [(String, Int32)] = [("disruptionsAllowed", status.disruptionsAllowed), ("currentHealthy", status.currentHealthy),
                                         ("desiredHealthy", status.desiredHealthy), ("expectedPods", status.expectedPods)]
        for (field, value) in counts where value < 0 {
            errors.append(ValidationError(type: .invalid, field: "status.\(field)", badValue: .int(Int64(value)),
                                          detail: "must be greater than or equal to 0"))
        }
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: Self.group, name: object.name ?? "", errors: errors) }
        // Go writes the counts even when zero: a status written without them reads back with them.
        object.fields["status"] = try TypedCodec.encode(status)
        return warnings
    }

    private func validate(_ object: KubeObject, context: StrategyContext) throws(APIError) -> [String] {
        let (spec, warnings) = try TypedCodec.decode(PodDisruptionBudgetSpec.self, from: object.fields["spec"] ?? .object([:]),
                                                     kind: Self.kind, version: "v1", pathPrefix: "spec.",
                                                     validation: context.fieldValidation)
        let errors = Self.specErrors(spec)
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: Self.group, name: object.name ?? "", errors: errors) }
        return warnings
    }

    /// `ValidatePodDisruptionBudgetSpec`.
    static func specErrors(_ spec: PodDisruptionBudgetSpec) -> [ValidationError] {
        var errors: [ValidationError] = []
        if spec.minAvailable != nil, spec.maxUnavailable != nil {
            errors.append(ValidationError(type: .invalid, field: "spec", badValue: .json(goSpec(spec)),
                                          detail: "minAvailable and maxUnavailable cannot be both set"))
        }
        if let value = spec.minAvailable { errors += intOrPercentErrors(value, path: "spec.minAvailable") }
        if let value = spec.maxUnavailable { errors += intOrPercentErrors(value, path: "spec.maxUnavailable") }
        if let selector = spec.selector, selector != .null {
            errors += selectorErrors(selector, path: "spec.selector")
        }
        if let policy = spec.unhealthyPodEvictionPolicy, !supportedPolicies.contains(policy) {
            errors.append(ValidationError(type: .notSupported, field: "spec.unhealthyPodEvictionPolicy", badValue: .string(policy),
                                          detail: "supported values: \"AlwaysAllow\", \"IfHealthyBudget\""))
        }
        return errors
    }

    /// `ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent` (pkg/apis/apps/validation).
    static func intOrPercentErrors(_ value: IntOrString, path: String) -> [ValidationError] {
        switch value {
        case .int(let number):
            return number < 0 ? [ValidationError(type: .invalid, field: path, badValue: .int(Int64(number)),
                                                 detail: "must be greater than or equal to 0")] : []
        case .string(let text):
            let digits = text.dropLast()
            guard text.hasSuffix("%"), !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return [ValidationError(type: .invalid, field: path, badValue: .json(goIntOrString(value)),
                                        detail: "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")]
            }
            // Digits beyond Int's range are more than 100 too.
            if Int(digits).map({ $0 > 100 }) ?? true {
                return [ValidationError(type: .invalid, field: path, badValue: .json(goIntOrString(value)), detail: "must not be greater than 100%")]
            }
            return []
        }
    }

    /// `ValidateLabelSelector` (apimachinery's meta/v1 validation): matchLabels as labels, each
    /// expression's operator, key and values.
    static func selectorErrors(_ selector: JSONValue, path: String) -> [ValidationError] {
        var errors: [ValidationError] = []
        let labels = (selector["matchLabels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        errors += ObjectValidation.validateLabels(labels, path: "\(path).matchLabels")
        for (index, expression) in (selector["matchExpressions"]?.arrayValue ?? []).enumerated() {
            let at = "\(path).matchExpressions[\(index)]"
            let op = expression["operator"]?.stringValue ?? ""
            let values = (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            switch op {
            case "In", "NotIn":
                if values.isEmpty {
                    errors.append(ValidationError(type: .required, field: "\(at).values", detail: "must be specified when `operator` is 'In' or 'NotIn'"))
                }
            case "Exists", "DoesNotExist":
                if !values.isEmpty {
                    errors.append(ValidationError(type: .forbidden, field: "\(at).values", detail: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
                }
            default:
                errors.append(ValidationError(type: .invalid, field: "\(at).operator", badValue: .string(op), detail: "not a valid selector operator"))
            }
            let key = expression["key"]?.stringValue ?? ""
            for message in NameRules.qualifiedName(key) {
                errors.append(ValidationError(type: .invalid, field: "\(at).key", badValue: .string(key), detail: message))
            }
            for (valueIndex, value) in values.enumerated() {
                for message in NameRules.labelValue(value) {
                    errors.append(ValidationError(type: .invalid, field: "\(at).values[\(valueIndex)]", badValue: .string(value), detail: message))
                }
            }
        }
        return errors
    }

    /// `ValidateConditions` (meta/v1 validation) for `metav1.Condition`s.
    static func conditionErrors(_ conditions: [JSONValue], path: String) -> [ValidationError] {
        var errors: [ValidationError] = []
        var seen: Set<String> = []
        for (index, condition) in conditions.enumerated() {
            let at = "\(path)[\(index)]"
            let type = condition["type"]?.stringValue ?? ""
            if !seen.insert(type).inserted {
                errors.append(ValidationError(type: .duplicate, field: "\(at).type", badValue: .string(type)))
            }
            for message in NameRules.qualifiedName(type) {
                errors.append(ValidationError(type: .invalid, field: "\(at).type", badValue: .string(type), detail: message))
            }
            let status = condition["status"]?.stringValue ?? ""
            if !["True", "False", "Unknown"].contains(status) {
                errors.append(ValidationError(type: .notSupported, field: "\(at).status", badValue: .string(status),
                                              detail: "supported values: \"False\", \"True\", \"Unknown\""))
            }
            if let generation = condition["observedGeneration"]?.intValue, generation < 0 {
                errors.append(ValidationError(type: .invalid, field: "\(at).observedGeneration", badValue: .int(generation),
                                              detail: "must be greater than or equal to zero"))
            }
            if (condition["lastTransitionTime"]?.stringValue ?? "").isEmpty {
                errors.append(ValidationError(type: .required, field: "\(at).lastTransitionTime", detail: "must be set"))
            }
            let reason = condition["reason"]?.stringValue ?? ""
            if reason.isEmpty {
                errors.append(ValidationError(type: .required, field: "\(at).reason", detail: "must be set"))
            } else if !isConditionReason(reason) {
                errors.append(ValidationError(type: .invalid, field: "\(at).reason", badValue: .string(reason),
                                              detail: "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')"))
            } else if reason.utf8.count > 1024 {
                errors.append(ValidationError(type: .tooLong, field: "\(at).reason", detail: "may not be more than 1024 bytes"))
            }
            if (condition["message"]?.stringValue ?? "").utf8.count > 32768 {
                errors.append(ValidationError(type: .tooLong, field: "\(at).message", detail: "may not be more than 32768 bytes"))
            }
        }
        return errors
    }

    /// `[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?`.
    static func isConditionReason(_ reason: String) -> Bool {
        let bytes = Array(reason.utf8)
        guard let first = bytes.first, isLetter(first) else { return false }
        if bytes.count == 1 { return true }
        guard let last = bytes.last, isLetter(last) || isDigit(last) || last == UInt8(ascii: "_") else { return false }
        return bytes.dropFirst().allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ":") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    /// Go's `%#v` of an `intstr.IntOrString`, as field errors print it (its `String` method has
    /// a pointer receiver, so the struct is printed raw).
    static func goIntOrString(_ value: IntOrString) -> String {
        switch value {
        case .int(let number): return "intstr.IntOrString{Type:0, IntVal:\(number), StrVal:\"\"}"
        case .string(let text): return "intstr.IntOrString{Type:1, IntVal:0, StrVal:\(GoQuote.quote(text))}"
        }
    }

    /// Go's `%#v` of the spec in the "both set" error. Upstream prints the pointers' addresses,
    /// which mean nothing outside that process; set pointers are shown as `(…)` here.
    static func goSpec(_ spec: PodDisruptionBudgetSpec) -> String {
        func pointer(_ type: String, _ set: Bool) -> String { "(*\(type))(\(set ? "…" : "nil"))" }
        return "policy.PodDisruptionBudgetSpec{MinAvailable:\(pointer("intstr.IntOrString", spec.minAvailable != nil)), "
            + "Selector:\(pointer("v1.LabelSelector", spec.selector != nil && spec.selector != .null)), "
            + "MaxUnavailable:\(pointer("intstr.IntOrString", spec.maxUnavailable != nil)), "
            + "UnhealthyPodEvictionPolicy:\(pointer("policy.UnhealthyPodEvictionPolicyType", spec.unhealthyPodEvictionPolicy != nil))}"
    }
}
