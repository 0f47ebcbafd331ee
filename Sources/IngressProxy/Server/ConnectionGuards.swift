import NIOCore
import NIOHTTP2

/// Closes a TLS connection whose handshake (and ALPN choice) does not finish within the header
/// timeout: a client that opens connections and sends nothing, or a ClientHello a byte at a time,
/// holds no slot for long. Removed by the pipeline setup once the protocol is chosen.
final class HandshakeDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let name = "ingress-handshake-deadline"
    private let timeout: TimeAmount
    private var scheduled: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        scheduled?.cancel()
        scheduled = nil
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard scheduled == nil else { return }
        scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }
}

/// Closes an HTTP/2 connection that has had no open stream for the keep-alive timeout (nginx
/// keepalive_timeout applies to HTTP/2 connections too). Told of streams by NIOHTTP2's stream
/// delegate, on the connection's event loop.
final class HTTP2IdleTracker: NIOHTTP2StreamDelegate, @unchecked Sendable {
    private let timer: DeadlineTimer
    private let timeout: TimeAmount
    private var open = 0

    init(channel: Channel, timeout: TimeAmount) {
        self.timeout = timeout
        self.timer = DeadlineTimer(eventLoop: channel.eventLoop)
        timer.onExpire = { channel.close(promise: nil) }
        timer.set(in: timeout)
        channel.closeFuture.assumeIsolated().whenComplete { [timer] _ in timer.cancel() }
    }

    func streamCreated(_ id: HTTP2StreamID, channel: Channel) {
        open += 1
        timer.set(nil)
    }

    func streamClosed(_ id: HTTP2StreamID, channel: Channel) {
        open -= 1
        if open <= 0 {
            open = 0
            timer.set(in: timeout)
        }
    }
}
