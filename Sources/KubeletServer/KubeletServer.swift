import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import Streaming

/// Settings of the kubelet API server (kubelet's `--address`, `--port`, `--cert-dir`).
public struct KubeletServerConfiguration: Sendable {
    /// Address to listen on; kubelet's default is every address.
    public var address: String
    /// 10250 by default; 0 picks a free port (reported through `onListening`).
    public var port: Int
    /// Where the self-signed serving certificate is kept (`<agent data dir>/pki`).
    public var certificateDirectory: String
    /// Names and addresses the certificate is valid for besides localhost and 127.0.0.1
    /// (the node name, its hostname, its InternalIP).
    public var dnsNames: [String]
    public var ipAddresses: [String]
    /// How long token reviews are trusted (kubelet's webhook cache TTL, 2 minutes).
    public var authenticationCacheTTL: Duration

    public init(address: String = "0.0.0.0", port: Int = 10250, certificateDirectory: String,
                dnsNames: [String] = [], ipAddresses: [String] = [], authenticationCacheTTL: Duration = .seconds(120)) {
        self.address = address
        self.port = port
        self.certificateDirectory = certificateDirectory
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.authenticationCacheTTL = authenticationCacheTTL
    }
}

/// The agent's kubelet API on :10250 over HTTPS: `/healthz`, `/pods`,
/// `/containerLogs/{namespace}/{pod}/{container}`, `/stats/summary` and `/metrics`, for the
/// API server (which proxies `kubectl logs` here), metrics-server and Prometheus; and the
/// streaming endpoints `/exec`, `/attach` and `/portForward` (`KubeletStreaming`), which the
/// API server proxies `kubectl exec`, `attach`, `cp` and `port-forward` to.
public struct KubeletServer: Sendable {
    public let host: any KubeletHost
    public let configuration: KubeletServerConfiguration
    let reviewer: any TokenReviewer
    let authorizer: any KubeletAuthorizer
    let logger: Logger

    /// - Parameters:
    ///   - reviewer: checks callers' bearer tokens with the API server (a TokenReview).
    ///   - authorizer: decides what an authenticated caller may do; by default members of
    ///     `system:masters` may do everything.
    public init(host: any KubeletHost, configuration: KubeletServerConfiguration, reviewer: any TokenReviewer,
                authorizer: any KubeletAuthorizer = SystemMastersAuthorizer(),
                logger: Logger = Logger(label: "swiftlet.kubelet-api")) {
        self.host = host
        self.configuration = configuration
        self.reviewer = reviewer
        self.authorizer = authorizer
        self.logger = logger
    }

    /// Serves until the task is cancelled. `onListening` receives the bound port.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var names: [String] = []
        for name in [host.nodeName] + configuration.dnsNames + [ProcessInfo.processInfo.hostName]
        where !name.isEmpty && !names.contains(name) {
            names.append(name)
        }
        let certificate = try KubeletCertificate.loadOrCreate(directory: configuration.certificateDirectory,
                                                              dnsNames: names, ipAddresses: configuration.ipAddresses)
        let tls: TLSConfiguration
        do {
            let chain = try NIOSSLCertificate(bytes: Array(certificate.certificatePEM.utf8), format: .pem)
            let key = try NIOSSLPrivateKey(bytes: Array(certificate.keyPEM.utf8), format: .pem)
            tls = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(chain)], privateKey: .privateKey(key))
        } catch {
            throw KubeletServerError("load the kubelet serving certificate from \(configuration.certificateDirectory): \(error); remove kubelet.crt and kubelet.key there to make new ones")
        }
        let gate = KubeletGate(nodeName: host.nodeName,
                               authenticator: CachingTokenAuthenticator(reviewer: reviewer, ttl: configuration.authenticationCacheTTL),
                               authorizer: authorizer, logger: logger)
        let handler = KubeletHandler(host: host, gate: gate, stats: StatsCollector(host: host), logger: logger)
        let streaming = KubeletStreaming(host: host, gate: gate, logger: logger)
        let application = Application(
            responder: handler,
            server: try .tls(UpgradableHTTPChannel.builder(upgrade: streaming.decide), tlsConfiguration: tls),
            configuration: ApplicationConfiguration(address: .hostname(configuration.address, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("kubelet API listening", metadata: ["address": "\(configuration.address):\(port)"])
                await onListening(port)
            },
            logger: logger)
        try await application.run()
    }
}
