import Foundation
import KubeAPI

/// The query parameters of list and watch requests (`metav1.ListOptions`).
package struct ListOptions: Sendable {
    package var labelSelector = LabelSelector.everything
    package var fieldSelector = FieldSelector.everything
    package var limit: Int?
    package var continueToken: String?
    package var resourceVersion: String?
    package var resourceVersionMatch: String?
    package var watch = false
    package var allowWatchBookmarks = false
    package var sendInitialEvents: Bool?
    package var timeoutSeconds: Int?

    package init() {}

    /// Reads the options from query parameters; malformed values are BadRequest.
    package init(query: [String: String]) throws(APIError) {
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
    package static func flag(_ text: String?) -> Bool {
        guard let text else { return false }
        return ["1", "t", "T", "true", "TRUE", "True"].contains(text)
    }

    /// The resourceVersion as a store revision; nil for "" and "0" (any version).
    package func revision() throws(APIError) -> Int64? {
        guard let resourceVersion, resourceVersion != "0" else { return nil }
        guard let value = Int64(resourceVersion), value > 0 else {
            throw APIError.badRequest("invalid resource version \(ObjectValidation.quote(resourceVersion)): must be a positive integer")
        }
        return value
    }
}
