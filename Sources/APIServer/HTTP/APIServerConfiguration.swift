/// Settings of the HTTP API server.
public struct APIServerConfiguration: Sendable {
    /// Address to listen on ("127.0.0.1", "0.0.0.0").
    public var host: String
    /// Port; 0 picks a free one (reported through `onListening`).
    public var port: Int
    /// The Kubernetes version reported by `/version` (`v1.32.0+swiftlet.1`).
    public var gitVersion: String
    /// Largest request body accepted; Kubernetes' default is 3 MiB.
    public var maxRequestBodyBytes: Int
    /// Serve HTTPS with this certificate and key (PEM); nil serves plain HTTP.
    public var tls: TLSMaterial?
    /// Require a bearer token on all but the open endpoints; nil lets everyone in.
    public var authenticator: Authenticator?
    /// The CA bundle `/cacerts` serves to joining agents.
    public var caCertificatePEM: String?
    /// The bearer token the server presents to kubelets when it proxies `pods/log`.
    public var kubeletClientToken: String?

    public init(host: String = "127.0.0.1", port: Int = 6443, gitVersion: String, maxRequestBodyBytes: Int = 3 * 1024 * 1024,
                tls: TLSMaterial? = nil, authenticator: Authenticator? = nil, caCertificatePEM: String? = nil,
                kubeletClientToken: String? = nil) {
        self.host = host
        self.port = port
        self.gitVersion = gitVersion
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.tls = tls
        self.authenticator = authenticator
        self.caCertificatePEM = caCertificatePEM
        self.kubeletClientToken = kubeletClientToken
    }
}

/// A serving certificate and its private key, PEM encoded.
public struct TLSMaterial: Sendable {
    public var certificatePEM: String
    public var keyPEM: String

    public init(certificatePEM: String, keyPEM: String) {
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }
}
