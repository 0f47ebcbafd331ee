import APIMachinery
import APIRegistry
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL

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

/// The Kubernetes API server: `APIService` over HTTP/1.1 (Hummingbird).
public struct APIServer: Sendable {
    public let service: APIService
    public let configuration: APIServerConfiguration
    let logger: Logger

    public init(service: APIService, configuration: APIServerConfiguration, logger: Logger = Logger(label: "swiftlet.server")) {
        self.service = service
        self.configuration = configuration
        self.logger = logger
    }

    /// Serves until the task is cancelled, or until SIGTERM/SIGINT with `handleSignals`.
    /// `onListening` receives the bound port once the socket is open.
    public func run(handleSignals: Bool = false, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let podLogs = PodLogProxy(kubeletClientToken: configuration.kubeletClientToken)
        do {
            try await serve(podLogs: podLogs, handleSignals: handleSignals, onListening: onListening)
        } catch {
            await podLogs.shutdown()
            throw error
        }
        await podLogs.shutdown()
    }

    private func serve(podLogs: PodLogProxy, handleSignals: Bool, onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let handler = APIHandler(service: service,
                                 discovery: Discovery(registry: service.registry, gitVersion: configuration.gitVersion),
                                 openAPI: OpenAPI(registry: service.registry, gitVersion: configuration.gitVersion),
                                 maxBodyBytes: configuration.maxRequestBodyBytes,
                                 serverAddress: "\(configuration.host):\(configuration.port)",
                                 authenticator: configuration.authenticator,
                                 caCertificatePEM: configuration.caCertificatePEM,
                                 logger: logger, podLogs: podLogs)
        let configuration = self.configuration
        let address = BindAddress.hostname(configuration.host, port: configuration.port)
        let application: Application<APIHandler>
        if let tls = configuration.tls {
            let tlsConfiguration: TLSConfiguration
            do {
                let certificate = try NIOSSLCertificate(bytes: Array(tls.certificatePEM.utf8), format: .pem)
                let key = try NIOSSLPrivateKey(bytes: Array(tls.keyPEM.utf8), format: .pem)
                var made = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)],
                                                                    privateKey: .privateKey(key))
                made.minimumTLSVersion = .tlsv12
                tlsConfiguration = made
            } catch {
                throw CertificateError("load the serving certificate for HTTPS: \(error)")
            }
            application = Application(responder: handler, server: try .tls(tlsConfiguration: tlsConfiguration),
                                      configuration: ApplicationConfiguration(address: address, serverName: nil),
                                      onServerRunning: { await onListening($0.localAddress?.port ?? 0) }, logger: logger)
        } else {
            application = Application(responder: handler,
                                      configuration: ApplicationConfiguration(address: address, serverName: nil),
                                      onServerRunning: { await onListening($0.localAddress?.port ?? 0) }, logger: logger)
        }
        if handleSignals {
            try await application.runService()
        } else {
            try await application.run()
        }
    }
}
