import APIMachinery
import APIRegistry
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import Streaming

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
        // pods/exec, attach and portforward switch protocols before the ordinary routes.
        let streams = try PodStreamProxy(service: service, authenticator: configuration.authenticator,
                                         kubeletClientToken: configuration.kubeletClientToken, logger: logger)
        let http = UpgradableHTTPChannel.builder(upgrade: streams.decide)
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
            application = Application(responder: handler, server: try .tls(http, tlsConfiguration: tlsConfiguration),
                                      configuration: ApplicationConfiguration(address: address, serverName: nil),
                                      onServerRunning: { await onListening($0.localAddress?.port ?? 0) }, logger: logger)
        } else {
            application = Application(responder: handler, server: http,
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
