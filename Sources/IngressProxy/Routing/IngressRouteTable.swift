/// The proxy's routes: Ingress rules of swiftlet's class merged per host, resolved to backends
/// with their ready endpoints, and the certificates by TLS host. Immutable: the server swaps
/// whole tables (`IngressProxyServer.update`), so a request sees one consistent table.
///
/// Lookup order (Kubernetes' Ingress semantics, as ingress-nginx serves them):
/// 1. the rules of the exact host; else those of a wildcard host "*.parent" whose one label
///    matches the request's first label; the host's unmatched paths go to the host's fallback
///    (the defaultBackend of its Ingress), then to the catch-all default backend;
/// 2. a request for no known host: the rules without a host;
/// 3. the catch-all default backend (the defaultBackend of the oldest served Ingress);
/// 4. otherwise 404.
public final class IngressRouteTable: Sendable {
    let hosts: [String: HostRoutes]
    /// Wildcard hosts by the part after "*.".
    let wildcards: [String: HostRoutes]
    let anyHost: HostRoutes?
    let defaultBackend: IngressBackendTarget?
    /// The certificates of the Ingresses' TLS sections, by host.
    public let certificates: IngressTLSCertificates

    init(hosts: [String: HostRoutes], wildcards: [String: HostRoutes], anyHost: HostRoutes?,
         defaultBackend: IngressBackendTarget?, certificates: IngressTLSCertificates) {
        self.hosts = hosts
        self.wildcards = wildcards
        self.anyHost = anyHost
        self.defaultBackend = defaultBackend
        self.certificates = certificates
    }

    /// A table that routes nothing: every request answers 404, TLS uses the default certificate.
    public static let empty = IngressRouteTable(hosts: [:], wildcards: [:], anyHost: nil, defaultBackend: nil,
                                                certificates: IngressTLSCertificates(exact: [:], wildcards: [:], loaded: [:]))

    /// Where a request goes.
    public enum Match: Sendable {
        case backend(IngressBackendTarget)
        /// No rule and no default backend: 404.
        case notFound
        /// The request target is not a path the proxy accepts: 400.
        case badRequest
    }

    /// Routes a request by its Host header (or :authority; nil or empty when it has none) and
    /// its request target (path and query as sent).
    public func route(host: Substring?, target: String) -> Match {
        guard let path = RequestPath.normalize(target) else { return .badRequest }
        let name = host.map(HostName.normalize) ?? ""
        if !name.isEmpty {
            if let routes = hosts[name] {
                return found(routes.match(path: path) ?? routes.fallback ?? defaultBackend)
            }
            if !wildcards.isEmpty, let parent = HostName.wildcardParent(name), let routes = wildcards[String(parent)] {
                return found(routes.match(path: path) ?? routes.fallback ?? defaultBackend)
            }
        }
        if let anyHost, let target = anyHost.match(path: path) {
            return .backend(target)
        }
        return found(defaultBackend)
    }

    @inline(__always)
    private func found(_ target: IngressBackendTarget?) -> Match {
        target.map { .backend($0) } ?? .notFound
    }

    /// The backend a request would reach, for tests and diagnostics.
    public func backend(host: String, path: String) -> IngressBackendTarget? {
        if case .backend(let target) = route(host: Substring(host), target: path) { return target }
        return nil
    }

    /// The hosts with rules, exact and wildcard, for status and diagnostics.
    public var ruleHosts: [String] {
        (Array(hosts.keys) + wildcards.keys.map { "*." + $0 }).sorted()
    }
}
