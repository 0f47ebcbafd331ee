import APIMachinery
import KubeAPI

/// Event validation as pkg/apis/core/validation/events.go does it, on the core/v1 form (field
/// paths are the internal type's: `involvedObject`, `message`, `reportingController`, as
/// upstream reports them for requests of either group):
/// - every Event passes the legacy checks (namespace agreement; with an `eventTime`, the
///   reporting controller, instance, action and reason, and their length limits);
/// - Events created or updated through events.k8s.io/v1 are checked strictly: `eventTime`
///   required, `type` Normal or Warning, the deprecated fields unset on create, a series of at
///   least 2 with its `lastObservedTime`, and on update nothing but the series and metadata changed.
enum EventValidation {
    static let reportingInstanceLengthLimit = 128
    static let actionLengthLimit = 128
    static let reasonLengthLimit = 128
    static let noteLengthLimit = 1024

    static func validateCreate(_ event: KubeObject, strict: Bool) -> [ValidationError] {
        var errors = legacy(event)
        guard strict else { return errors }
        errors += series(event)
        if isZero(event.fields["eventTime"]) { errors.append(required("eventTime")) }
        let type = event.fields["type"]?.stringValue ?? ""
        if type != "Normal" && type != "Warning" {
            errors.append(invalid("type", "", "has invalid value: \(type)"))
        }
        for field in ["firstTimestamp", "lastTimestamp"] where !isZero(event.fields[field]) {
            errors.append(invalid(field, "", "needs to be unset"))
        }
        if let count = event.fields["count"]?.intValue, count != 0 { errors.append(invalid("count", "", "needs to be unset")) }
        let source = event.fields["source"]
        if !(source?["component"]?.stringValue ?? "").isEmpty || !(source?["host"]?.stringValue ?? "").isEmpty {
            errors.append(invalid("source", "", "needs to be unset"))
        }
        return errors
    }

    static func validateUpdate(_ event: KubeObject, old: KubeObject, strict: Bool) -> [ValidationError] {
        var errors = legacy(event)
        guard strict else { return errors }
        if event.fields["series"] != old.fields["series"] { errors += series(event) }
        // Upstream's list, in its order (reason appears twice there; once here).
        let immutable = ["involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count",
                         "type", "eventTime", "action", "related", "reportingComponent", "reportingInstance"]
        for field in immutable where normalized(event.fields[field]) != normalized(old.fields[field]) {
            let path = field == "reportingComponent" ? "reportingController" : field
            errors.append(ValidationError(type: .invalid, field: path, badValue: badValue(event.fields[field]),
                                          detail: "field is immutable"))
        }
        return errors
    }

    /// `legacyValidateEvent`.
    static func legacy(_ event: KubeObject) -> [ValidationError] {
        var errors: [ValidationError] = []
        let namespace = event.namespace ?? ""
        let involvedNamespace = event.value(at: ["involvedObject", "namespace"])?.stringValue ?? ""
        let mismatch = invalid("involvedObject.namespace", involvedNamespace, "does not match event.namespace")
        if isZero(event.fields["eventTime"]) {
            if involvedNamespace.isEmpty {
                // Empty, or "default" for compatibility with old clients.
                if !namespace.isEmpty && namespace != "default" { errors.append(mismatch) }
            } else if namespace != involvedNamespace {
                errors.append(mismatch)
            }
        } else {
            if involvedNamespace.isEmpty && namespace != "default" && namespace != "kube-system" { errors.append(mismatch) }
            let controller = event.fields["reportingComponent"]?.stringValue ?? ""
            if controller.isEmpty { errors.append(required("reportingController")) }
            for message in NameRules.qualifiedName(controller) {
                errors.append(invalid("reportingController", controller, message))
            }
            errors += requiredWithLimit(event, "reportingInstance", limit: reportingInstanceLengthLimit)
            errors += requiredWithLimit(event, "action", limit: actionLengthLimit)
            errors += requiredWithLimit(event, "reason", limit: reasonLengthLimit)
            if (event.fields["message"]?.stringValue ?? "").utf8.count > noteLengthLimit {
                errors.append(invalid("message", "", "can have at most \(noteLengthLimit) characters"))
            }
        }
        for message in NameRules.dns1123Subdomain(namespace) {
            errors.append(invalid("namespace", namespace, message))
        }
        return errors
    }

    /// `validateV1EventSeries`.
    static func series(_ event: KubeObject) -> [ValidationError] {
        guard let series = event.fields["series"], series != .null else { return [] }
        var errors: [ValidationError] = []
        if (series["count"]?.intValue ?? 0) < 2 { errors.append(invalid("series.count", "", "should be at least 2")) }
        if isZero(series["lastObservedTime"]) { errors.append(required("series.lastObservedTime")) }
        return errors
    }

    private static func requiredWithLimit(_ event: KubeObject, _ field: String, limit: Int) -> [ValidationError] {
        let value = event.fields[field]?.stringValue ?? ""
        if value.isEmpty { return [required(field)] }
        if value.utf8.count > limit { return [invalid(field, "", "can have at most \(limit) characters")] }
        return []
    }

    /// An unset time: absent, null or empty (Go's zero time).
    private static func isZero(_ value: JSONValue?) -> Bool {
        guard let value, value != .null else { return true }
        return (value.stringValue ?? "x").isEmpty
    }

    /// A value as field.Error prints it: strings quoted, numbers bare, anything else as JSON.
    private static func badValue(_ value: JSONValue?) -> ValidationError.BadValue {
        switch value {
        case .string(let text)?: return .string(text)
        case .int(let number)?: return .int(number)
        case nil, .null?: return .json("null")
        case let other?: return .json(String(decoding: JSONSerializer.serialize(other), as: UTF8.self))
        }
    }

    /// Absent, null and an empty struct are the same (Go's zero value: a client that read
    /// `deprecatedSource: {}` and sends it back changed nothing).
    private static func normalized(_ value: JSONValue?) -> JSONValue {
        guard let value, value != .object([:]) else { return .null }
        return value
    }

    private static func required(_ field: String) -> ValidationError {
        ValidationError(type: .required, field: field)
    }

    private static func invalid(_ field: String, _ value: String, _ detail: String) -> ValidationError {
        ValidationError(type: .invalid, field: field, badValue: .string(value), detail: detail)
    }
}
