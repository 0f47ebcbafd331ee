import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL

/// One HTTP/2 connection to one etcd member, each gRPC call a stream on it, as gRPC over
/// HTTP/2 specifies (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
/// request HEADERS (`:method POST`, `:path /etcdserverpb.KV/Range`, `content-type:
/// application/grpc`, `te: trailers`), DATA frames of length-prefixed messages, and a reply
/// that ends in trailers carrying `grpc-status` (or a "trailers-only" reply for early errors).
///
/// Failures are `GRPCCallFailure`s that say whether the request may have reached etcd: writes
/// are retried elsewhere only when it cannot have (clientv3's `isSafeRetryMutableRPC`).
final class GRPCConnection: Sendable {
    typealias StreamChannel = NIOAsyncChannel<HTTP2Frame.FramePayload, HTTP2Frame.FramePayload>

    let endpoint: EtcdEndpoint
    private let channel: any Channel
    private let multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>

    private init(endpoint: EtcdEndpoint, channel: any Channel, multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>) {
        self.endpoint = endpoint
        self.channel = channel
        self.multiplexer = multiplexer
    }

    /// Opens the TCP (and TLS, ALPN `h2`) connection and sends the HTTP/2 preface.
    static func connect(to endpoint: EtcdEndpoint, tls: NIOSSLContext?, settings: EtcdClientSettings) async throws(EtcdError) -> GRPCConnection {
        if endpoint.usesTLS, tls == nil {
            throw .connection(endpoint: endpoint.description, reason: "an https endpoint needs TLS settings")
        }
        var configuration = NIOHTTP2Handler.Configuration()
        // Large windows: a list of a few thousand objects is megabytes, and the default 64 KiB
        // window would cost a round trip per 64 KiB.
        configuration.connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
            HTTP2Setting(parameter: .initialWindowSize, value: 4 << 20),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 64 << 10),
        ]
        configuration.stream.targetWindowSize = 4 << 20
        configuration.connection.targetWindowSize = 16 << 20
        // NIOHTTP2 counts PING and SETTINGS frames from the peer and calls more than 200 in 30 s
        // a flood (DOSHeuristics' controlFrameRateLimit). etcd's gRPC server (grpc-go) sends a
        // PING with every burst of data it receives while it estimates the connection's
        // bandwidth-delay product (grpc-go internal/transport/bdp_estimator.go), so a few hundred
        // writes in a row crossed the limit: NIOHTTP2 then sent GOAWAY (ENHANCE_YOUR_CALM) and every
        // call went unanswered (bisected: sustainedWritesOnOneConnectionAreAllAnswered fails with
        // only this limit at its default, passes with every other flood guard and window at theirs).
        // etcd is a peer we chose; the limit is lifted for it alone.
        configuration.connection.controlFrameRateLimit.maximumCount = Int.max
        let keepalive = GRPCKeepalive(interval: settings.keepaliveTime, timeout: settings.keepaliveTimeout)
        do {
            let (channel, multiplexer) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(settings.dialTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if let tls {
                            // An IP literal is no SNI name; NIOSSL then checks the certificate's IP
                            // SANs against the peer's address.
                            let hostname = endpoint.hostIsIPAddress ? nil : endpoint.host
                            try pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: hostname))
                        }
                        let multiplexer = try pipeline.configureAsyncHTTP2Pipeline(
                            mode: .client, streamDelegate: keepalive, configuration: configuration
                        ) { stream in stream.eventLoop.makeSucceededVoidFuture() }
                        try pipeline.addHandler(keepalive)
                        // A connection error (NIOHTTP2 sends GOAWAY and reports it, but leaves the
                        // channel open) closes the connection, so calls fail at once and the client
                        // reconnects, instead of waiting out their deadlines on a dead connection.
                        try pipeline.addHandler(NIOCloseOnErrorHandler())
                        return (channel, multiplexer)
                    }
                }
            return GRPCConnection(endpoint: endpoint, channel: channel, multiplexer: multiplexer)
        } catch {
            throw .connection(endpoint: endpoint.description, reason: "connect: \(error)")
        }
    }

    /// Whether the connection is still open (a closed one is replaced by the client).
    var isActive: Bool {
        channel.isActive
    }

    func close() {
        channel.close(promise: nil)
    }

    /// A unary call: one request message, one reply message, within `timeout`.
    func unary(_ method: String, _ request: [UInt8], timeout: Duration, maximumReplyBytes: Int) async throws(GRPCCallFailure) -> [UInt8] {
        let endpoint = self.endpoint
        return try await GRPCCallFailure.catching(endpoint: endpoint) {
            try await Self.withTimeout(timeout, endpoint: endpoint) {
                try await self.withStream(method, timeout: timeout) { messages, writer in
                    try await writer.send(request, endStream: true)
                    guard let reply = try await messages.next(limit: maximumReplyBytes) else {
                        throw GRPCCallFailure(error: .malformedResponse("\(method) ended without a reply"), requestSent: true)
                    }
                    // Read on to the trailers: a status other than OK after a message is still an error.
                    while try await messages.next(limit: maximumReplyBytes) != nil {}
                    return reply
                }
            }
        }
    }

    /// A streaming call: `body` sends with the writer and reads replies until it returns; the
    /// stream is reset if it ends first.
    func withStream<Result: Sendable>(
        _ method: String, timeout: Duration? = nil, metadata: [(String, String)] = [],
        _ body: (inout GRPCMessages, GRPCWriter) async throws -> Result
    ) async throws -> Result {
        let stream: StreamChannel
        do {
            stream = try await multiplexer.openStream { channel in
                channel.eventLoop.makeCompletedFuture { try StreamChannel(wrappingChannelSynchronously: channel) }
            }
        } catch {
            throw GRPCCallFailure(error: .connection(endpoint: endpoint.description, reason: "open stream: \(error)"), requestSent: false)
        }
        var headers: HPACKHeaders = [
            ":method": "POST", ":scheme": endpoint.usesTLS ? "https" : "http", ":path": method,
            ":authority": endpoint.authority, "content-type": "application/grpc", "te": "trailers",
            "user-agent": "swiftlet-etcd",
        ]
        if let timeout {
            // grpc-timeout: at most 8 digits and a unit; milliseconds cover every timeout used here.
            headers.add(name: "grpc-timeout", value: "\(min(99_999_999, timeout.milliseconds))m")
        }
        for (name, value) in metadata { headers.add(name: name, value: value) }
        let endpoint = self.endpoint
        let sentHeaders = headers
        return try await stream.executeThenClose { inbound, outbound in
            do {
                try await outbound.write(.headers(.init(headers: sentHeaders)))
            } catch {
                throw GRPCCallFailure(error: .connection(endpoint: endpoint.description, reason: "send headers: \(error)"), requestSent: false)
            }
            var messages = GRPCMessages(inbound: inbound.makeAsyncIterator(), endpoint: endpoint, method: method)
            return try await body(&messages, GRPCWriter(outbound: outbound, endpoint: endpoint))
        }
    }

    /// Runs `body`, failing with a deadline error after `timeout` (the stream is then reset).
    static func withTimeout<Result: Sendable>(_ timeout: Duration, endpoint: EtcdEndpoint,
                                              _ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw GRPCCallFailure(error: .status(code: EtcdError.Code.deadlineExceeded,
                                                     message: "no answer within \(timeout)", endpoint: endpoint.description),
                                      requestSent: true)
            }
            return result
        }
    }
}

/// A failed call, and whether its request may have reached the server.
struct GRPCCallFailure: Error {
    let error: EtcdError
    let requestSent: Bool

    /// Runs `body`, turning whatever it throws into a failure of this endpoint.
    static func catching<Result>(endpoint: EtcdEndpoint, _ body: () async throws -> Result) async throws(GRPCCallFailure) -> Result {
        do {
            return try await body()
        } catch let failure as GRPCCallFailure {
            throw failure
        } catch let error as EtcdError {
            throw GRPCCallFailure(error: error, requestSent: true)
        } catch is CancellationError {
            throw GRPCCallFailure(error: .status(code: EtcdError.Code.cancelled, message: "call cancelled", endpoint: endpoint.description),
                                  requestSent: true)
        } catch {
            throw GRPCCallFailure(error: .connection(endpoint: endpoint.description, reason: "\(error)"), requestSent: true)
        }
    }
}

/// Sends length-prefixed gRPC messages on a stream.
struct GRPCWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<HTTP2Frame.FramePayload>
    let endpoint: EtcdEndpoint

    func send(_ message: [UInt8], endStream: Bool = false) async throws {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(5 + message.count)
        buffer.writeInteger(UInt8(0))  // not compressed
        buffer.writeInteger(UInt32(message.count))
        buffer.writeBytes(message)
        do {
            try await outbound.write(.data(.init(data: .byteBuffer(buffer), endStream: endStream)))
        } catch {
            throw GRPCCallFailure(error: .connection(endpoint: endpoint.description, reason: "send: \(error)"), requestSent: true)
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded up so a short timeout never becomes zero.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}
