import APIMachinery
import KubeAPI

/// policy/v1beta1 PodDisruptionBudgets over the stored policy/v1 ones, as
/// pkg/apis/policy/v1beta1/conversion.go converts them. The versions differ in one meaning: an
/// empty selector `{}` selects no pod in v1beta1 and every pod in v1. So a v1beta1 `{}` is
/// stored as a selector that matches nothing (`pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match`
/// Exists), v1beta1's own match-all form (the same key, DoesNotExist) as v1's `{}`, and back;
/// the marker key is stripped from any other selector a client sends.
package struct PodDisruptionBudgetV1beta1Conversion: StoredFormConversion {
    static let markerKey = "pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match"

    package init() {}

    static func marker(_ op: String) -> JSONValue {
        .object(["matchExpressions": .array([.object(["key": .string(markerKey), "operator": .string(op)])])])
    }

    package func toStored(_ object: KubeObject) -> KubeObject {
        var stored = object
        stored.fields["apiVersion"] = .string("policy/v1")
        if let selector = object.value(at: ["spec", "selector"]), selector != .null {
            if selector == .object([:]) {
                stored.set(Self.marker("Exists"), at: ["spec", "selector"])
            } else if selector == Self.marker("DoesNotExist") {
                stored.set(.object([:]), at: ["spec", "selector"])
            } else {
                stored.set(Self.strippingMarker(selector), at: ["spec", "selector"])
            }
        }
        return stored
    }

    package func fromStored(_ object: KubeObject) -> KubeObject {
        var served = object
        served.fields["apiVersion"] = .string("policy/v1beta1")
        if let selector = object.value(at: ["spec", "selector"]) {
            if selector == Self.marker("Exists") {
                served.set(.object([:]), at: ["spec", "selector"])
            } else if selector == .object([:]) {
                served.set(Self.marker("DoesNotExist"), at: ["spec", "selector"])
            }
        }
        return served
    }

    /// `StripPDBV1beta1Label`: the marker key never mixes with a user's selector.
    static func strippingMarker(_ selector: JSONValue) -> JSONValue {
        guard case .object(var members) = selector else { return selector }
        if case .object(var labels)? = members["matchLabels"] {
            labels[markerKey] = nil
            members["matchLabels"] = .object(labels)
        }
        if case .array(let expressions)? = members["matchExpressions"] {
            members["matchExpressions"] = .array(expressions.filter { $0["key"]?.stringValue != markerKey })
        }
        return .object(members)
    }
}
