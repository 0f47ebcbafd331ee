import Foundation

/// A request's query string read as Go's `url.ParseQuery` reads it (kube-apiserver and the
/// kubelet read theirs with it): pairs split at `&`, `+` is a space, percent escapes decoded
/// (a bad escape is kept as written). Of a repeated key this keeps the last value. The API
/// server and the kubelet API both use this.
public enum URLQuery {
    /// The parameters of `query` (the part after `?`, nil or empty for none).
    public static func parse(_ query: String?) -> [String: String] {
        guard let query, !query.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }

    /// Every parameter of `query` in order, repeated keys included (kubelet's exec reads each
    /// `command` value as one argument, `portForward` each `port`).
    public static func parseAll(_ query: String?) -> [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
