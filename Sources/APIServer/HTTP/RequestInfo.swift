
/// What a request path addresses, parsed as Kubernetes' `RequestInfoFactory` does:
/// `/api/v1/namespaces/default/pods/web/status` is group "", version v1, namespace default,
/// resource pods, name web, subresource status.
struct RequestInfo: Sendable, Equatable {
    var group = ""
    var version = ""
    var namespace: String?
    var resource = ""
    var name: String?
    var subresource: String?
    /// The legacy `/api/v1/watch/...` form.
    var watchPrefix = false

    /// Subresources of a namespace that are not resources inside it.
    private static let namespaceSubresources: Set<String> = ["status", "finalize"]

    /// Parses a resource path; nil for anything that is not one (discovery, /version, ...).
    init?(path: String) {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let prefix = parts.first else { return nil }
        parts.removeFirst()
        switch prefix {
        case "api":
            guard parts.count >= 2 else { return nil }
            version = parts.removeFirst()
        case "apis":
            guard parts.count >= 3 else { return nil }
            group = parts.removeFirst()
            version = parts.removeFirst()
        default:
            return nil
        }
        if parts.first == "watch" {
            watchPrefix = true
            parts.removeFirst()
        }
        guard !parts.isEmpty else { return nil }
        if parts[0] == "namespaces", parts.count > 1 {
            namespace = parts[1]
            if parts.count > 2, !Self.namespaceSubresources.contains(parts[2]) {
                parts.removeFirst(2)
            }
        }
        resource = parts[0]
        if parts.count > 1 { name = parts[1] }
        if parts.count > 2 { subresource = parts[2] }
        if parts.count > 3 { return nil }
    }
}
