import KubeAPI

/// An error answered as a Kubernetes `Status` object, with the reasons, codes and messages of
/// k8s.io/apimachinery/pkg/api/errors, so kubectl prints them the same way
/// (`Error from server (NotFound): pods "web" not found`).
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One field problem of an Invalid error (`StatusCause`).
    public struct Cause: Sendable, Equatable {
        public var reason: String
        public var message: String
        public var field: String?

        public init(reason: String, message: String, field: String? = nil) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    /// `StatusDetails`.
    public struct Details: Sendable, Equatable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var uid: String?
        public var causes: [Cause]
        public var retryAfterSeconds: Int?

        public init(name: String? = nil, group: String? = nil, kind: String? = nil, uid: String? = nil,
                    causes: [Cause] = [], retryAfterSeconds: Int? = nil) {
            self.name = name
            self.group = group
            self.kind = kind
            self.uid = uid
            self.causes = causes
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    /// The HTTP status code.
    public var code: Int
    /// The machine-readable `StatusReason` ("NotFound", "AlreadyExists", ...).
    public var reason: String
    public var message: String
    public var details: Details?

    public init(code: Int, reason: String, message: String, details: Details? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { message }

    /// The `Status` object sent to the client.
    public var status: JSONValue {
        var fields: [String: JSONValue] = [
            "kind": .string("Status"),
            "apiVersion": .string("v1"),
            "metadata": .object([:]),
            "status": .string("Failure"),
            "message": .string(message),
            "code": .int(Int64(code)),
        ]
        if !reason.isEmpty {
            fields["reason"] = .string(reason)
        }
        if let details {
            var members: [String: JSONValue] = [:]
            if let name = details.name { members["name"] = .string(name) }
            if let group = details.group, !group.isEmpty { members["group"] = .string(group) }
            if let kind = details.kind { members["kind"] = .string(kind) }
            if let uid = details.uid { members["uid"] = .string(uid) }
            if !details.causes.isEmpty {
                members["causes"] = .array(details.causes.map { cause in
                    var members: [String: JSONValue] = ["reason": .string(cause.reason), "message": .string(cause.message)]
                    if let field = cause.field { members["field"] = .string(field) }
                    return .object(members)
                })
            }
            if let retry = details.retryAfterSeconds { members["retryAfterSeconds"] = .int(Int64(retry)) }
            fields["details"] = .object(members)
        }
        return .object(fields)
    }

    // MARK: - Constructors named after apimachinery's errors package

    /// `pods "web" not found`.
    public static func notFound(_ resource: GroupResource, name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(resource) \(ObjectValidation.quote(name)) not found",
                 details: Details(name: name, group: resource.group, kind: resource.resource))
    }

    /// `pods "web" already exists`.
    public static func alreadyExists(_ resource: GroupResource, name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(resource) \(ObjectValidation.quote(name)) already exists",
                 details: Details(name: name, group: resource.group, kind: resource.resource))
    }

    /// `Operation cannot be fulfilled on pods "web": <why>`.
    public static func conflict(_ resource: GroupResource, name: String, _ why: String) -> APIError {
        APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(resource) \(ObjectValidation.quote(name)): \(why)",
                 details: Details(name: name, group: resource.group, kind: resource.resource))
    }

    /// The optimistic-concurrency conflict of an update with a stale resourceVersion.
    public static func staleUpdate(_ resource: GroupResource, name: String) -> APIError {
        conflict(resource, name: name, "the object has been modified; please apply your changes to the latest version and try again")
    }

    /// `Pod "web" is invalid: [spec.containers[0].image: Required value, ...]` with one cause per problem.
    public static func invalid(kind: String, group: String, name: String, errors: [ValidationError]) -> APIError {
        let qualified = group.isEmpty ? kind : "\(kind).\(group)"
        let rendered = InvalidObjectError(kind: qualified, name: name, errors: errors).description
        let causes = errors.map { Cause(reason: $0.type.rawValue, message: $0.body, field: $0.field) }
        return APIError(code: 422, reason: "Invalid", message: rendered,
                        details: Details(name: name, group: group, kind: kind, causes: causes))
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    public static func methodNotAllowed() -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
    }

    /// The answer for a path the server does not serve.
    public static func pathNotFound() -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: Details())
    }

    public static func unsupportedMediaType(_ contentType: String, accepted: [String]) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType",
                 message: "the body of the request was in an unknown format - accepted media types include: " + accepted.joined(separator: ", "),
                 details: Details(causes: [Cause(reason: "UnsupportedMediaType", message: contentType)]))
    }

    public static func notAcceptable(_ accepted: [String]) -> APIError {
        APIError(code: 406, reason: "NotAcceptable",
                 message: "only the following media types are accepted: " + accepted.joined(separator: ", "))
    }

    public static func requestEntityTooLarge(limit: Int) -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(limit)")
    }

    /// 410 Gone for a watch or list from a compacted resourceVersion.
    public static func expired(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    /// A namespace being deleted refuses new content.
    public static func forbidden(_ resource: GroupResource, name: String, _ why: String) -> APIError {
        let subject = name.isEmpty ? "\(resource)" : "\(resource) \(ObjectValidation.quote(name))"
        return APIError(code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(why)",
                        details: Details(name: name.isEmpty ? nil : name, group: resource.group, kind: resource.resource))
    }

    public static func tooLargeResourceVersion(requested: Int64, current: Int64) -> APIError {
        APIError(code: 504, reason: "Timeout",
                 message: "Too large resource version: \(requested), current: \(current)",
                 details: Details(causes: [Cause(reason: "ResourceVersionTooLarge", message: "Too large resource version")],
                                  retryAfterSeconds: 1))
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)",
                 details: Details(causes: [Cause(reason: "", message: message)]))
    }
}
