import KubeAPI

/// What a route table is built from: the objects the agent watches. The agent passes every
/// Ingress, IngressClass, Service and EndpointSlice it knows and the TLS Secrets the served
/// Ingresses name; `IngressRouteTable.build` picks what belongs to swiftlet's class.
public struct IngressRouteInputs: Sendable {
    public var ingresses: [Ingress]
    public var ingressClasses: [IngressClass]
    public var services: [Service]
    public var endpointSlices: [EndpointSlice]
    /// The `kubernetes.io/tls` Secrets by "namespace/name"; a Secret that does not exist is absent.
    public var tlsSecrets: [String: IngressTLSSecret]

    public init(ingresses: [Ingress] = [], ingressClasses: [IngressClass] = [], services: [Service] = [],
                endpointSlices: [EndpointSlice] = [], tlsSecrets: [String: IngressTLSSecret] = [:]) {
        self.ingresses = ingresses
        self.ingressClasses = ingressClasses
        self.services = services
        self.endpointSlices = endpointSlices
        self.tlsSecrets = tlsSecrets
    }
}

/// The two keys of a `kubernetes.io/tls` Secret, decoded from base64: `tls.crt` (the
/// certificate, then any intermediates, PEM) and `tls.key` (its private key, PEM).
public struct IngressTLSSecret: Sendable, Hashable {
    public var certificatePEM: [UInt8]
    public var keyPEM: [UInt8]

    public init(certificatePEM: [UInt8], keyPEM: [UInt8]) {
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }

    public init(certificatePEM: String, keyPEM: String) {
        self.init(certificatePEM: Array(certificatePEM.utf8), keyPEM: Array(keyPEM.utf8))
    }
}
