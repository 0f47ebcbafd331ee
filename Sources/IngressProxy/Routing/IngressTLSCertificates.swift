import NIOSSL

/// The TLS contexts of the Ingresses' `tls` sections, chosen by SNI: the exact host first, then a
/// wildcard host ("*.foo.com" for "bar.foo.com", one label as in rules), else none (the server
/// then uses its default certificate, as ingress-nginx does with its fake certificate).
public final class IngressTLSCertificates: Sendable {
    let exact: [String: LoadedCertificate]
    let wildcards: [String: LoadedCertificate]
    /// Every usable Secret by "namespace/name", kept so the next table reuses the contexts of
    /// unchanged Secrets instead of parsing keys again.
    let loaded: [String: LoadedCertificate]

    init(exact: [String: LoadedCertificate], wildcards: [String: LoadedCertificate], loaded: [String: LoadedCertificate]) {
        self.exact = exact
        self.wildcards = wildcards
        self.loaded = loaded
    }

    /// The context for a server name from SNI, or nil for the default certificate.
    public func context(serverName: String) -> NIOSSLContext? {
        let name = HostName.normalize(Substring(serverName))
        if let certificate = exact[name] { return certificate.context }
        if let parent = HostName.wildcardParent(name), let certificate = wildcards[String(parent)] {
            return certificate.context
        }
        return nil
    }

    /// The Secret ("namespace/name") whose certificate a server name gets, or nil for the default.
    public func secretName(serverName: String) -> String? {
        let name = HostName.normalize(Substring(serverName))
        if let certificate = exact[name] { return certificate.secret }
        if let parent = HostName.wildcardParent(name), let certificate = wildcards[String(parent)] {
            return certificate.secret
        }
        return nil
    }

    /// The TLS hosts served with a Secret's certificate.
    public var hosts: [String] { (Array(exact.keys) + wildcards.keys.map { "*." + $0 }).sorted() }
}

/// A TLS Secret turned into a server context, with what it was made from.
struct LoadedCertificate: Sendable {
    let secret: String
    let source: IngressTLSSecret
    let context: NIOSSLContext
}
