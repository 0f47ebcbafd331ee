import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Dials a kubelet and asks it to switch protocols (the backend half of kube-apiserver's
/// upgrade-aware proxy, k8s.io/apimachinery/pkg/util/proxy/upgradeaware.go): TLS without
/// verifying the kubelet's self-signed certificate (as kube-apiserver without
/// `--kubelet-certificate-authority`), the client's request with the kubelet path, and the
/// answer: the switched connection with the kubelet's 101 headers, or its refusal.
struct KubeletUpgradeDialer: Sendable {
    /// How the kubelet answered.
    enum Answer: Sendable {
        /// 101: the raw connection (bytes after the kubelet's 101 included) and its headers.
        case switched(NIOAsyncChannel<ByteBuffer, ByteBuffer>, HTTPResponseHead)
        /// Anything else: its status, content type and body (at most 64 KiB).
        case refused(status: Int, contentType: String, body: [UInt8])
    }

    let context: NIOSSLContext
    let connectTimeout: TimeAmount
    let answerTimeout: Duration

    init(connectTimeout: TimeAmount = .seconds(10), answerTimeout: Duration = .seconds(30)) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        context = try NIOSSLContext(configuration: tls)
        self.connectTimeout = connectTimeout
        self.answerTimeout = answerTimeout
    }

    /// Any 101 whose `Upgrade` names the protocol asked for.
    struct Upgrader: NIOTypedHTTPClientProtocolUpgrader {
        let supportedProtocol: String
        let requiredUpgradeHeaders: [String] = []
        func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {}
        func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool { true }
        func upgrade(channel: any Channel, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<Result> {
            channel.eventLoop.makeCompletedFuture {
                .switched(try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel,
                                                                       configuration: .init(isOutboundHalfClosureEnabled: true)),
                          upgradeResponse)
            }
        }
    }

    enum Result: Sendable {
        case switched(NIOAsyncChannel<ByteBuffer, ByteBuffer>, HTTPResponseHead)
        case http(NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>)
    }

    /// Sends `head` (its `Connection` and `Upgrade` are set here, for `upgradeProtocol`) to
    /// the kubelet at `host:port` and returns its answer.
    func dial(host: String, port: Int, head: HTTPRequestHead, upgradeProtocol: String) async throws -> Answer {
        var head = head
        head.headers.remove(name: "Connection")
        head.headers.remove(name: "Upgrade")
        let context = self.context
        let request = head
        let pending: EventLoopFuture<Result> = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil))
                    var configuration = NIOUpgradableHTTPClientPipelineConfiguration<Result>(
                        upgradeConfiguration: NIOTypedHTTPClientUpgradeConfiguration(
                            upgradeRequestHead: request, upgraders: [Upgrader(supportedProtocol: upgradeProtocol)],
                            notUpgradingCompletionHandler: { channel in
                                channel.eventLoop.makeCompletedFuture {
                                    .http(try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel))
                                }
                            }))
                    configuration.leftOverBytesStrategy = .forwardBytes
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: configuration)
                }
            }
        let result = try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await pending.get() }
            group.addTask {
                try await Task.sleep(for: answerTimeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let result else {
            pending.whenSuccess { result in
                switch result {
                case .switched(let channel, _): channel.channel.close(promise: nil)
                case .http(let channel): channel.channel.close(promise: nil)
                }
            }
            throw DialError("the kubelet at \(host):\(port) did not answer within \(answerTimeout)")
        }
        switch result {
        case .switched(let channel, let response):
            return .switched(channel, response)
        case .http(let channel):
            var status = 500
            var contentType = "text/plain; charset=utf-8"
            var body: [UInt8] = []
            try await channel.executeThenClose { inbound, _ in
                for try await part in inbound {
                    switch part {
                    case .head(let response):
                        status = Int(response.status.code)
                        contentType = response.headers["Content-Type"].first ?? contentType
                    case .body(let bytes):
                        body += bytes.readableBytesView.prefix(64 * 1024 - body.count)
                    case .end:
                        return
                    }
                }
            }
            return .refused(status: status, contentType: contentType, body: body)
        }
    }

    struct DialError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
