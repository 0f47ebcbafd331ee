import KubeAPI

/// The options of DELETE (`metav1.DeleteOptions`), from the body or the query.
package struct DeleteOptions: Sendable {
    package var gracePeriodSeconds: Int64?
    package var propagationPolicy: String?
    package var preconditionUID: String?
    package var preconditionResourceVersion: String?
    package var dryRun = false
    /// `ignoreStoreReadErrorWithClusterBreakingPotential` (KEP-3926): delete an entry the store
    /// cannot decode, without reading it (no finalizers, no graceful deletion).
    package var ignoreStoreReadError = false

    package init() {}

    package init(body: JSONValue?, query: [String: String]) throws(APIError) {
        if let body {
            gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue
            propagationPolicy = body["propagationPolicy"]?.stringValue
            preconditionUID = body["preconditions"]?["uid"]?.stringValue
            preconditionResourceVersion = body["preconditions"]?["resourceVersion"]?.stringValue
            if let dryRun = body["dryRun"]?.arrayValue, dryRun.contains(.string("All")) { self.dryRun = true }
            if body["orphanDependents"]?.boolValue == true, propagationPolicy == nil { propagationPolicy = "Orphan" }
            ignoreStoreReadError = body["ignoreStoreReadErrorWithClusterBreakingPotential"]?.boolValue ?? false
        }
        if let text = query["gracePeriodSeconds"] {
            guard let value = Int64(text) else { throw APIError.badRequest("invalid gracePeriodSeconds \(ObjectValidation.quote(text))") }
            gracePeriodSeconds = value
        }
        if let policy = query["propagationPolicy"] { propagationPolicy = policy }
        if query["dryRun"] == "All" { dryRun = true }
        if let text = query["ignoreStoreReadErrorWithClusterBreakingPotential"] {
            ignoreStoreReadError = text == "true" || text == "1"
        }
        if let policy = propagationPolicy, !["Orphan", "Background", "Foreground"].contains(policy) {
            throw APIError.invalid(kind: "DeleteOptions", group: "", name: "", errors: [
                ValidationError(type: .notSupported, field: "propagationPolicy", badValue: .string(policy),
                                detail: "supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""),
            ])
        }
    }
}
