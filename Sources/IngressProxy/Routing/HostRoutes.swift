/// The path rules of one host (or of the rules without a host), merged from every Ingress that
/// names it, and the host's fallback.
///
/// Precedence follows Kubernetes (https://kubernetes.io/docs/concepts/services-networking/ingress/#multiple-matches):
/// the longest matching path wins and, at equal length, Exact beats Prefix. An Exact rule that
/// matches is always at least as long as any matching Prefix rule (a Prefix rule matches a path
/// only up to an element boundary of it), so Exact rules are looked up first, then Prefix rules
/// from the longest.
final class HostRoutes: Sendable {
    let exact: [String: IngressBackendTarget]
    /// Prefix (and ImplementationSpecific) rules by `RequestPath.prefixKey`, longest first.
    let prefixes: [(key: String, target: IngressBackendTarget)]
    /// The defaultBackend of the oldest Ingress that has rules for this host and a defaultBackend
    /// (ingress-nginx uses an Ingress's defaultBackend for its hosts' unmatched paths).
    let fallback: IngressBackendTarget?

    init(exact: [String: IngressBackendTarget], prefixes: [(key: String, target: IngressBackendTarget)],
         fallback: IngressBackendTarget?) {
        self.exact = exact
        self.prefixes = prefixes.sorted { $0.key.utf8.count > $1.key.utf8.count }
        self.fallback = fallback
    }

    /// The backend for a normalised request path, or nil when no rule matches.
    func match(path: Substring) -> IngressBackendTarget? {
        if !exact.isEmpty, let target = exact[String(path)] { return target }
        for rule in prefixes where RequestPath.prefix(rule.key, matches: path) {
            return rule.target
        }
        return nil
    }
}
