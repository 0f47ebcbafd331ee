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

    /// The certificate for a server name from SNI, or nil for the default certificate.
    func certificate(serverName: String) -> LoadedCertificate? {
        let name = HostName.normalize(Substring(serverName))
        if let certificate = exact[name] { return certificate }
        if let parent = HostName.wildcardParent(name) { return wildcards[String(parent)] }
        return nil
    }

    /// The context for a server name from SNI, or nil for the default certificate.
    public func context(serverName: String) -> NIOSSLContext? { certificate(serverName: serverName)?.context }

    /// The Secret ("namespace/name") whose certificate a server name gets, or nil for the default.
    public func secretName(serverName: String) -> String? { certificate(serverName: serverName)?.secret }

    /// The TLS hosts served with a Secret's certificate.
    public var hosts: [String] { (Array(exact.keys) + wildcards.keys.map { "*." + $0 }).sorted() }
}

/// A TLS Secret turned into server contexts, with what they were made from: NIOSSL's for the
/// connections NIO serves, BoringSSL's own for the epoll data path (nil if BoringSSL refused the
/// PEM that NIOSSL read: its hosts are then served by NIO alone).
struct LoadedCertificate: Sendable {
    let secret: String
    let source: IngressTLSSecret
    let context: NIOSSLContext
    let dataPath: DataPathTLSContext?
}
