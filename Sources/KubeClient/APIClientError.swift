/// A failed call to the API server.
public enum APIClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with a non-2xx status; `reason` and `message` come from the
    /// `Status` body when there is one (`NotFound`, `pods "web" not found`), else from the
    /// HTTP status line.
    case status(code: Int, reason: String, message: String)
    /// The server could not be reached or the connection failed; the text names the server.
    case transport(String)
    /// A 2xx answer whose body is not the JSON the caller asked for.
    case decoding(String)

    /// The HTTP status code of a `.status` error.
    public var code: Int? {
        if case .status(let code, _, _) = self { return code }
        return nil
    }

    /// 404: the object (or the path) does not exist.
    public var isNotFound: Bool { code == 404 }
    /// 409 with reason Conflict: an update from a stale resourceVersion or a failed precondition.
    public var isConflict: Bool {
        if case .status(409, let reason, _) = self { return reason != "AlreadyExists" }
        return false
    }
    /// 409 with reason AlreadyExists.
    public var isAlreadyExists: Bool {
        if case .status(409, "AlreadyExists", _) = self { return true }
        return false
    }
    /// 410: a watch or list from a compacted resourceVersion; list again and watch from there.
    public var isGone: Bool { code == 410 }
    /// 401: the credentials were refused.
    public var isUnauthorized: Bool { code == 401 }
    /// 403: the identity may not do this.
    public var isForbidden: Bool { code == 403 }

    public var description: String {
        switch self {
        case .status(let code, let reason, let message):
            return "\(message) (\(code)\(reason.isEmpty ? "" : " \(reason)"))"
        case .transport(let text), .decoding(let text):
            return text
        }
    }
}
