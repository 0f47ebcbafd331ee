import APIMachinery
import KubeAPI

/// events.k8s.io/v1 Events over the stored core/v1 Events, as pkg/apis/events/v1/conversion.go
/// converts them: `regarding` is `involvedObject`, `note` is `message`, `reportingController` is
/// `reportingComponent`, and the `deprecated*` fields are core's `source`, `firstTimestamp`,
/// `lastTimestamp` and `count`. Every other field has the same name and meaning in both.
package struct EventsV1Conversion: StoredFormConversion {
    /// (events.k8s.io/v1 name, core/v1 name) of the fields that are renamed.
    static let renamed: [(String, String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"),
    ]
    /// Fields both versions have under one name.
    static let shared = ["metadata", "eventTime", "series", "reportingInstance", "action", "reason", "related", "type"]

    package init() {}

    package func toStored(_ object: KubeObject) -> KubeObject {
        var fields: [String: JSONValue] = ["apiVersion": .string("v1"), "kind": .string("Event")]
        for name in Self.shared { fields[name] = object.fields[name] }
        for (served, stored) in Self.renamed { fields[stored] = object.fields[served] }
        // core/v1's involvedObject is a struct, never absent.
        if fields["involvedObject"] == nil || fields["involvedObject"] == .null { fields["involvedObject"] = .object([:]) }
        return KubeObject(fields: fields.filter { $0.value != .null })
    }

    package func fromStored(_ object: KubeObject) -> KubeObject {
        var fields: [String: JSONValue] = ["apiVersion": .string("events.k8s.io/v1"), "kind": .string("Event")]
        for name in Self.shared { fields[name] = object.fields[name] }
        for (served, stored) in Self.renamed { fields[served] = object.fields[stored] }
        // What Go's encoder writes for these even when empty: eventTime has no omitempty (null
        // when unset), regarding and deprecatedSource are structs.
        if fields["eventTime"] == nil { fields["eventTime"] = .null }
        if fields["regarding"] == nil { fields["regarding"] = .object([:]) }
        if fields["deprecatedSource"] == nil { fields["deprecatedSource"] = .object([:]) }
        return KubeObject(fields: fields)
    }
}
