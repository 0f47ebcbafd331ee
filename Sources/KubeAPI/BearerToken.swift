/// The bearer token of an `Authorization` header, read exactly as Kubernetes reads it
/// (k8s.io/apiserver/pkg/authentication/request/bearertoken): the header trimmed of
/// surrounding whitespace, split at the first two single spaces, the scheme `bearer` in any
/// case, the token the second part. So `Bearer  abc` (two spaces) carries an empty token and
/// authenticates nobody (Kubernetes adds a warning saying why), and `Bearer abc def` carries
/// `abc`. The API server and the kubelet API both use this.
public enum BearerToken {
    /// The warning kube-apiserver adds when a space precedes the token.
    public static let spaceBeforeTokenWarning =
        "the provided Authorization header contains extra space before the bearer token, and is ignored"

    /// What a header holds.
    public enum Parsed: Equatable, Sendable {
        /// No header, another scheme, or an empty token.
        case none
        /// An empty token because of a space before it (`Bearer  abc`).
        case spaceBeforeToken
        case token(String)
    }

    public static func parse(_ header: String?) -> Parsed {
        guard let header else { return .none }
        let trimmed = header.trimmingGoSpace()
        guard !trimmed.isEmpty else { return .none }
        let parts = trimmed.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].lowercased() == "bearer" else { return .none }
        let token = parts[1]
        if token.isEmpty {
            return parts.count == 3 ? .spaceBeforeToken : .none
        }
        return .token(String(token))
    }
}

extension String {
    /// Go's `strings.TrimSpace`: leading and trailing Unicode white space removed.
    fileprivate func trimmingGoSpace() -> Substring {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return slice
    }
}
