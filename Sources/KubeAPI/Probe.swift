/// A liveness, readiness or startup check run by the agent.
public struct Probe: Codable, Hashable, Sendable {
    public var exec: ExecAction?
    public var httpGet: HTTPGetAction?
    public var tcpSocket: TCPSocketAction?
    public var grpc: GRPCAction?
    public var initialDelaySeconds: Int32?
    public var timeoutSeconds: Int32?
    public var periodSeconds: Int32?
    public var successThreshold: Int32?
    public var failureThreshold: Int32?
    public var terminationGracePeriodSeconds: Int64?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        exec: ExecAction? = nil,
        httpGet: HTTPGetAction? = nil,
        tcpSocket: TCPSocketAction? = nil,
        grpc: GRPCAction? = nil,
        initialDelaySeconds: Int32? = nil,
        timeoutSeconds: Int32? = nil,
        periodSeconds: Int32? = nil,
        successThreshold: Int32? = nil,
        failureThreshold: Int32? = nil,
        terminationGracePeriodSeconds: Int64? = nil
    ) {
        self.exec = exec
        self.httpGet = httpGet
        self.tcpSocket = tcpSocket
        self.grpc = grpc
        self.initialDelaySeconds = initialDelaySeconds
        self.timeoutSeconds = timeoutSeconds
        self.periodSeconds = periodSeconds
        self.successThreshold = successThreshold
        self.failureThreshold = failureThreshold
        self.terminationGracePeriodSeconds = terminationGracePeriodSeconds
    }
}

/// Runs a command inside the container; exit status 0 is success.
public struct ExecAction: Codable, Hashable, Sendable {
    public var command: [String]?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        command: [String]? = nil
    ) {
        self.command = command
    }
}

/// An HTTP GET; a status from 200 to 399 is success.
public struct HTTPGetAction: Codable, Hashable, Sendable {
    public var path: String?
    /// A number or the name of a container port.
    public var port: IntOrString
    /// Defaults to the pod IP.
    public var host: String?
    /// "HTTP" (default) or "HTTPS".
    public var scheme: String?
    public var httpHeaders: [HTTPHeader]?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        path: String? = nil,
        port: IntOrString,
        host: String? = nil,
        scheme: String? = nil,
        httpHeaders: [HTTPHeader]? = nil
    ) {
        self.path = path
        self.port = port
        self.host = host
        self.scheme = scheme
        self.httpHeaders = httpHeaders
    }
}

/// A header sent with an HTTP probe.
public struct HTTPHeader: Codable, Hashable, Sendable {
    public var name: String
    public var value: String

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String,
        value: String
    ) {
        self.name = name
        self.value = value
    }
}

/// Opens a TCP connection; connecting is success.
public struct TCPSocketAction: Codable, Hashable, Sendable {
    /// A number or the name of a container port.
    public var port: IntOrString
    public var host: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        port: IntOrString,
        host: String? = nil
    ) {
        self.port = port
        self.host = host
    }
}

/// A gRPC health check (grpc.health.v1).
public struct GRPCAction: Codable, Hashable, Sendable {
    public var port: Int32
    public var service: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        port: Int32,
        service: String? = nil
    ) {
        self.port = port
        self.service = service
    }
}
