import HTTPTypes
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with protocol upgrades: the first request of a
/// connection that asks for `websocket` or `SPDY/3.1` goes to an `UpgradeHandler`, which may
/// accept it (101, then the raw connection is its), refuse it with an ordinary answer, or pass
/// it to the responder like any other request. Everything else is Hummingbird's `HTTP1Channel`.
///
/// Kubernetes' streaming endpoints need this: kubelet's `/exec`, `/attach` and `/portForward`
/// and the API server's `pods/exec|attach|portforward`, which kube-apiserver hands to an
/// upgrade-aware proxy (k8s.io/apimachinery/pkg/util/proxy/upgradeaware.go).
public struct UpgradableHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    /// The protocols upgrades are offered for (lowercased, as NIO matches them).
    public static let protocols = ["websocket", "spdy/3.1"]

    public struct Value: ServerChildChannelValue {
        let result: EventLoopFuture<UpgradeResult>
        public let channel: any Channel
    }

    enum UpgradeResult: Sendable {
        case upgraded(NIOAsyncChannel<ByteBuffer, ByteBuffer>, run: @Sendable (UpgradedConnection) async throws -> Void)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, refusal: UpgradeRefusal?)
    }

    public let responder: HTTPChannelHandler.Responder
    let upgrade: UpgradeHandler
    let maxHeaderBytes: Int

    public init(responder: @escaping HTTPChannelHandler.Responder, maxHeaderBytes: Int = 80 * 1024,
                upgrade: @escaping UpgradeHandler) {
        self.responder = responder
        self.upgrade = upgrade
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// A builder for `Application(server:)`; wrap it in `.tls(_:tlsConfiguration:)` for HTTPS.
    public static func builder(upgrade: @escaping UpgradeHandler) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in UpgradableHTTPChannel(responder: responder, upgrade: upgrade) }
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // One decision per connection: NIO offers an upgrade on the first request only.
            let state = NIOLockedValueBox<Decided?>(nil)
            let upgraders: [any NIOTypedHTTPServerProtocolUpgrader<UpgradeResult>] = Self.protocols.map {
                Upgrader(supportedProtocol: $0, handler: upgrade, state: state)
            }
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(
                upgradeConfiguration: NIOTypedHTTPServerUpgradeConfiguration(upgraders: upgraders) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // What Hummingbird's HTTP1Channel adds after its HTTP codec.
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        var refusal: UpgradeRefusal?
                        if case .refused(let answer) = state.withLockedValue({ $0 }) { refusal = answer }
                        return UpgradeResult.http(http, refusal: refusal)
                    }
                })
            configuration.enablePipelining = false
            // NIO's protocol error handler answers a request that does not parse with 400 and
            // closes: the upgrade handler in front of Hummingbird's own (which answers the
            // later requests' errors) would otherwise leave such a connection open forever.
            configuration.enableErrorHandling = true
            configuration.enableResponseHeaderValidation = false
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = maxHeaderBytes
            limits.maxHeaderListSize = maxHeaderBytes
            configuration.decoderConfiguration = limits
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            try channel.pipeline.syncOperations.addHandler(CloseOnParseError())
            return Value(result: result, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        let result: UpgradeResult
        do {
            result = try await value.result.get()
        } catch {
            logger.debug("HTTP upgrade failed", metadata: ["error": "\(error)"])
            value.channel.close(promise: nil)
            return
        }
        switch result {
        case .http(let http, let refusal?):
            await Self.write(refusal, on: http, logger: logger)
        case .http(let http, nil):
            await handleHTTP(asyncChannel: http, logger: logger)
        case .upgraded(let raw, let run):
            do {
                try await withTaskCancellationHandler {
                    try await raw.executeThenClose { inbound, outbound in
                        try await run(UpgradedConnection(inbound: inbound, outbound: outbound, channel: raw.channel))
                    }
                } onCancel: {
                    raw.channel.close(promise: nil)
                }
            } catch {
                logger.debug("upgraded connection ended", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Writes a refusal and closes the connection.
    static func write(_ refusal: UpgradeRefusal, on http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        do {
            try await http.executeThenClose { _, outbound in
                var fields: HTTPFields = [.contentType: refusal.contentType, .contentLength: String(refusal.body.count),
                                          .connection: "close"]
                for (name, value) in refusal.headers {
                    if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
                }
                try await outbound.write(.head(HTTPResponse(status: .init(code: refusal.status), headerFields: fields)))
                if !refusal.body.isEmpty { try await outbound.write(.body(ByteBuffer(bytes: refusal.body))) }
                try await outbound.write(.end(nil))
            }
        } catch {
            logger.debug("writing an upgrade refusal failed", metadata: ["error": "\(error)"])
        }
    }

    /// Closes the connection once NIO's protocol error handler has answered a request that
    /// does not parse with its 400 (it leaves the closing to whoever comes after it).
    final class CloseOnParseError: ChannelInboundHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = NIOAny

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if error is HTTPParserError {
                context.close(promise: nil)
                return
            }
            context.fireErrorCaught(error)
        }
    }

    /// The decision made for the connection's upgrade request.
    enum Decided: Sendable {
        case accepted(@Sendable (UpgradedConnection) async throws -> Void)
        case refused(UpgradeRefusal)
    }

    /// One upgrader per protocol, all asking the same handler. A refusal or a pass fails the
    /// upgrade, which sends the request down the ordinary HTTP path (NIO's "not upgrading").
    struct Upgrader: NIOTypedHTTPServerProtocolUpgrader {
        let supportedProtocol: String
        let requiredUpgradeHeaders: [String] = []
        let handler: UpgradeHandler
        let state: NIOLockedValueBox<Decided?>

        struct NotUpgrading: Error {}

        func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead,
                                  initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
            let promise = channel.eventLoop.makePromise(of: HTTPHeaders.self)
            let request = UpgradeRequest(head: upgradeRequest, upgradeProtocol: supportedProtocol, remoteAddress: channel.remoteAddress)
            let state = self.state
            let handler = self.handler
            promise.completeWithTask {
                switch await handler(request) {
                case .pass:
                    throw NotUpgrading()
                case .refuse(let refusal):
                    state.withLockedValue { $0 = .refused(refusal) }
                    throw NotUpgrading()
                case .accept(let headers, let run):
                    state.withLockedValue { $0 = .accepted(run) }
                    var response = initialResponseHeaders
                    for (name, value) in headers { response.add(name: name, value: value) }
                    return response
                }
            }
            return promise.futureResult
        }

        func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
            channel.eventLoop.makeCompletedFuture {
                guard case .accepted(let run) = state.withLockedValue({ $0 }) else { throw NotUpgrading() }
                let raw = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                return UpgradeResult.upgraded(raw, run: run)
            }
        }
    }
}
