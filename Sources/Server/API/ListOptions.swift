import Foundation
import KubeAPI

/// The query parameters of list and watch requests (`metav1.ListOptions`).
struct ListOptions: Sendable {
    var labelSelector = LabelSelector.everything
    var fieldSelector = FieldSelector.everything
    var limit: Int?
    var continueToken: String?
    var resourceVersion: String?
    var resourceVersionMatch: String?
    var watch = false
    var allowWatchBookmarks = false
    var sendInitialEvents: Bool?
    var timeoutSeconds: Int?

    init() {}

    /// Reads the options from query parameters; malformed values are BadRequest.
    init(query: [String: String]) throws(APIError) {
        if let text = query["labelSelector"] { labelSelector = try LabelSelector(parsing: text) }
        if let text = query["fieldSelector"] { fieldSelector = try FieldSelector(parsing: text) }
        if let text = query["limit"], !text.isEmpty {
            guard let value = Int(text), value >= 0 else {
                throw APIError.badRequest("invalid limit \(ObjectValidation.quote(text)): must be a non-negative integer")
            }
            limit = value > 0 ? value : nil
        }
        continueToken = query["continue"].flatMap { $0.isEmpty ? nil : $0 }
        resourceVersion = query["resourceVersion"].flatMap { $0.isEmpty ? nil : $0 }
        resourceVersionMatch = query["resourceVersionMatch"].flatMap { $0.isEmpty ? nil : $0 }
        watch = Self.flag(query["watch"])
        allowWatchBookmarks = Self.flag(query["allowWatchBookmarks"])
        sendInitialEvents = query["sendInitialEvents"].map { Self.flag($0) }
        if let text = query["timeoutSeconds"], !text.isEmpty {
            guard let value = Int(text), value >= 0 else {
                throw APIError.badRequest("invalid timeoutSeconds \(ObjectValidation.quote(text))")
            }
            timeoutSeconds = value
        }
    }

    /// Go's `strconv.ParseBool` truths (Python's client sends `watch=True`).
    static func flag(_ text: String?) -> Bool {
        guard let text else { return false }
        return ["1", "t", "T", "true", "TRUE", "True"].contains(text)
    }

    /// The resourceVersion as a store revision; nil for "" and "0" (any version).
    func revision() throws(APIError) -> Int64? {
        guard let resourceVersion, resourceVersion != "0" else { return nil }
        guard let value = Int64(resourceVersion), value > 0 else {
            throw APIError.badRequest("invalid resource version \(ObjectValidation.quote(resourceVersion)): must be a positive integer")
        }
        return value
    }
}

/// The `continue` token of paginated lists, in Kubernetes' format: base64url of
/// `{"v":"meta.k8s.io/v1","rv":<list revision>,"start":"<next key>"}`.
struct ContinueToken: Codable, Sendable, Equatable {
    var v = "meta.k8s.io/v1"
    var rv: Int64
    var start: String

    var encoded: String {
        let data = (try? JSONEncoder().encode(self)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init(rv: Int64, start: String) {
        self.rv = rv
        self.start = start
    }

    init(decoding text: String) throws(APIError) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let token = try? JSONDecoder().decode(ContinueToken.self, from: data),
              token.v == "meta.k8s.io/v1", token.rv > 0 else {
            throw APIError.badRequest("continue key is not valid: could not decode the continue token")
        }
        self = token
    }
}

/// The options of DELETE (`metav1.DeleteOptions`), from the body or the query.
struct DeleteOptions: Sendable {
    var gracePeriodSeconds: Int64?
    var propagationPolicy: String?
    var preconditionUID: String?
    var preconditionResourceVersion: String?
    var dryRun = false

    init() {}

    init(body: JSONValue?, query: [String: String]) throws(APIError) {
        if let body {
            gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue
            propagationPolicy = body["propagationPolicy"]?.stringValue
            preconditionUID = body["preconditions"]?["uid"]?.stringValue
            preconditionResourceVersion = body["preconditions"]?["resourceVersion"]?.stringValue
            if let dryRun = body["dryRun"]?.arrayValue, dryRun.contains(.string("All")) { self.dryRun = true }
            if body["orphanDependents"]?.boolValue == true, propagationPolicy == nil { propagationPolicy = "Orphan" }
        }
        if let text = query["gracePeriodSeconds"] {
            guard let value = Int64(text) else { throw APIError.badRequest("invalid gracePeriodSeconds \(ObjectValidation.quote(text))") }
            gracePeriodSeconds = value
        }
        if let policy = query["propagationPolicy"] { propagationPolicy = policy }
        if query["dryRun"] == "All" { dryRun = true }
        if let policy = propagationPolicy, !["Orphan", "Background", "Foreground"].contains(policy) {
            throw APIError.invalid(kind: "DeleteOptions", group: "", name: "", errors: [
                ValidationError(type: .notSupported, field: "propagationPolicy", badValue: .string(policy),
                                detail: "supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""),
            ])
        }
    }
}
