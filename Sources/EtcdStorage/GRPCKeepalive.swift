import NIOCore
import NIOHTTP2

/// HTTP/2 PINGs while calls are open, closing the connection when one goes unanswered: a
/// member on a machine that died sends no RST, and a watch on it would otherwise wait forever.
/// kube-apiserver's etcd client does the same with 30 s / 10 s (storagebackend/factory/etcd3.go
/// `keepaliveTime`, `keepaliveTimeout`).
///
/// Only while streams are open: etcd's gRPC server allows pings without calls at most every two
/// hours and answers more with GOAWAY "too_many_pings" (grpc-go's keepalive enforcement with
/// `PermitWithoutStream: false`, as etcd configures it).
///
/// Both the channel handler (it sees the root stream's PING ACKs, which the HTTP/2 handler passes
/// on) and the stream delegate (it counts open streams). Everything runs on the channel's event loop.
final class GRPCKeepalive: ChannelDuplexHandler, NIOHTTP2StreamDelegate, @unchecked Sendable {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let interval: TimeAmount
    private let timeout: TimeAmount
    private var openStreams = 0
    private var pingTask: RepeatedTask?
    private var deadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    /// The payload of the PING awaiting its ACK.
    private var outstanding: UInt64 = 0

    init(interval: Duration, timeout: Duration) {
        self.interval = TimeAmount(interval)
        self.timeout = TimeAmount(timeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.ping()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pingTask?.cancel()
        deadline?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        pingTask?.cancel()
        deadline?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if case .ping(let payload, ack: true) = frame.payload, payload.integer == outstanding {
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func streamCreated(_ id: HTTP2StreamID, channel: Channel) {
        openStreams += 1
    }

    func streamClosed(_ id: HTTP2StreamID, channel: Channel) {
        openStreams -= 1
    }

    private func ping() {
        guard let context, openStreams > 0, deadline == nil else { return }
        outstanding &+= 1
        let payload = HTTP2PingData(withInteger: outstanding)
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .ping(payload, ack: false))), promise: nil)
        deadline = context.eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self, let context = self.context else { return }
            // No ACK: the peer or the path is gone. Closing fails every open call.
            context.close(promise: nil)
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
