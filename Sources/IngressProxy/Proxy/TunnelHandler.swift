import NIOCore

/// One side of an upgraded connection (WebSocket or any HTTP/1.1 Upgrade after the backend's 101):
/// bytes go to the partner on the other connection as they come, reads stop while the partner
/// cannot write (backpressure), and when either side closes both do. Both sides run on the same
/// event loop.
final class TunnelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: TunnelHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// Bytes that came before the partner was joined (left over after the HTTP part).
    private var early: [ByteBuffer] = []

    /// `early`: the bytes this side sent after its HTTP part, read by the HTTP handler before the
    /// tunnel took over.
    init(early: ByteBuffer? = nil) {
        if let early { self.early.append(early) }
    }

    /// Joins two sides.
    static func join(_ a: TunnelHandler, _ b: TunnelHandler) {
        a.partner = b
        b.partner = a
        a.drainEarly()
        b.drainEarly()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let partner else {
            early.append(buffer)
            return
        }
        partner.partnerWrite(buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let partner = self.partner
        self.partner = nil
        partner?.partner = nil
        partner?.context?.close(promise: nil)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.resumeReading() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if let partnerContext = partner?.context, !partnerContext.channel.isWritable {
            pendingRead = true
        } else {
            context.read()
        }
    }

    private func partnerWrite(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    private func resumeReading() {
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    private func drainEarly() {
        guard let partner, !early.isEmpty else { return }
        for buffer in early { partner.partnerWrite(buffer) }
        early.removeAll()
        partner.context?.flush()
    }

    /// Starts reading on this side (reads may have been held while the upgrade was under way).
    func start() {
        context?.read()
    }
}
