/// Something wrong with one Ingress that the proxy works around: the rest keeps serving. Shaped
/// like a Warning Event on the Ingress (`reason`, `message`), which is how the agent reports it.
public struct IngressProblem: Sendable, Hashable, CustomStringConvertible {
    /// The Ingress the problem belongs to.
    public var namespace: String
    public var name: String
    /// A CamelCase reason, one of the constants below.
    public var reason: String
    /// What is wrong and what the proxy does instead.
    public var message: String

    public init(namespace: String, name: String, reason: String, message: String) {
        self.namespace = namespace
        self.name = name
        self.reason = reason
        self.message = message
    }

    public var description: String { "Ingress \(namespace)/\(name): \(reason): \(message)" }

    /// Another, older Ingress already serves the same host, path and path type.
    public static let pathConflict = "PathConflict"
    /// An older Ingress's defaultBackend is already the catch-all backend.
    public static let defaultBackendConflict = "DefaultBackendConflict"
    /// An older Ingress already gives a different certificate for the same TLS host.
    public static let tlsHostConflict = "TLSHostConflict"
    /// The backend Service does not exist.
    public static let serviceNotFound = "ServiceNotFound"
    /// The backend names a port the Service does not have.
    public static let servicePortNotFound = "ServicePortNotFound"
    /// A backend the proxy does not serve: a `resource` backend or an ExternalName Service.
    public static let unsupportedBackend = "UnsupportedBackend"
    /// A rule the API server should have refused (a path not starting with "/", an unknown path type).
    public static let invalidRule = "InvalidRule"
    /// The TLS Secret does not exist.
    public static let tlsSecretNotFound = "TLSSecretNotFound"
    /// The TLS Secret's certificate or key cannot be used.
    public static let tlsSecretInvalid = "TLSSecretInvalid"
}
