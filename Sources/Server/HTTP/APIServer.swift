import Hummingbird
import Logging

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

    public init(host: String = "127.0.0.1", port: Int = 6443, gitVersion: String, maxRequestBodyBytes: Int = 3 * 1024 * 1024) {
        self.host = host
        self.port = port
        self.gitVersion = gitVersion
        self.maxRequestBodyBytes = maxRequestBodyBytes
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
        let handler = APIHandler(service: service,
                                 discovery: Discovery(registry: service.registry, gitVersion: configuration.gitVersion),
                                 openAPI: OpenAPI(registry: service.registry, gitVersion: configuration.gitVersion),
                                 maxBodyBytes: configuration.maxRequestBodyBytes,
                                 serverAddress: "\(configuration.host):\(configuration.port)",
                                 logger: logger)
        let application = Application(
            responder: handler,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: nil),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? 0)
            },
            logger: logger
        )
        if handleSignals {
            try await application.runService()
        } else {
            try await application.run()
        }
    }
}
