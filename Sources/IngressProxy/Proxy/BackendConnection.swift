import NIOCore
import NIOHTTP1

/// The handler at the end of a backend connection's pipeline (HTTP/1.1 to a pod): relays the
/// response to the exchange it serves, holds reads while the client cannot take more (so a fast
/// backend cannot fill the proxy's memory), times out a silent backend, and sits in its event
/// loop's pool between requests.
final class BackendConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ProxyResponsePart
    typealias OutboundIn = ProxyRequestPart
    typealias OutboundOut = ProxyRequestPart

    let endpoint: BackendEndpoint
    /// Strong references both ways (pool and exchange), cleared when the connection closes or
    /// changes hands: weak references give every retain of these objects the slow path through a
    /// side table, which showed in profiles.
    private var pool: BackendConnectionPool?
    private var context: ChannelHandlerContext?
    /// The request being served; nil while idle in the pool.
    var exchange: BackendExchange?
    /// Requests this connection has carried (a failure on a reused connection may be a race with
    /// the backend closing it, which is worth one retry).
    var requests = 0
    private(set) var isOpen = true
    /// When it went back to the pool.
    var idleSince = NIODeadline.now()
    /// Handed over to a tunnel: what the HTTP decoder still delivers (the 101's end) is ignored.
    private var tunneling = false
    private var readsPaused = false
    private var pendingRead = false
    private let timer: DeadlineTimer
    private var timeout: TimeAmount = .seconds(60)

    /// Shared with the connection's response decoder, which must know a HEAD request's response.
    private let request: BackendRequestInfo

    init(endpoint: BackendEndpoint, pool: BackendConnectionPool, request: BackendRequestInfo, eventLoop: EventLoop) {
        self.endpoint = endpoint
        self.pool = pool
        self.request = request
        self.timer = DeadlineTimer(eventLoop: eventLoop)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Cancelled (and the callback dropped) in handlerRemoved, which every channel close reaches.
        timer.onExpire = { [unowned self] in self.expired() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer.cancel()
        self.context = nil
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// Starts serving an exchange: the backend timeout runs while it waits for the backend.
    func attach(_ exchange: BackendExchange, timeout: TimeAmount) {
        self.exchange = exchange
        self.timeout = timeout
        requests += 1
        readsPaused = false
        timer.set(in: timeout)
    }

    /// Back to idle (in the pool, or about to close): the idle timeout replaces the backend timeout.
    func detach(idleTimeout: TimeAmount?) {
        exchange = nil
        resumeReads()
        idleSince = NIODeadline.now()
        if let idleTimeout { timer.set(idleSince + idleTimeout) } else { timer.set(nil) }
    }

    func write(_ part: ProxyRequestPart) {
        if case .head(let head) = part { request.isHEAD = head.method == .HEAD }
        context?.write(wrapOutboundOut(part), promise: nil)
        // A request body moving counts as activity (nginx proxy_send_timeout), so an upload longer
        // than the backend timeout does not answer 504 while it flows.
        if exchange != nil, !readsPaused { timer.set(in: timeout) }
    }

    func flush() {
        context?.flush()
    }

    func close() {
        guard isOpen else { return }
        context?.close(promise: nil)
    }

    /// Stops reading the response: the client is not taking it. The backend timeout stops too
    /// (the wait is the client's, which its own send timeout bounds).
    func pauseReads() {
        readsPaused = true
        timer.set(nil)
    }

    func resumeReads() {
        guard readsPaused else { return }
        readsPaused = false
        if exchange != nil { timer.set(in: timeout) }
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if tunneling { return }
        guard let exchange else {
            // A response nobody asked for (or bytes after one): the connection is unusable.
            context.close(promise: nil)
            return
        }
        if !readsPaused { timer.set(in: timeout) }
        exchange.backendRead(part, from: self)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.backendReadComplete(from: self)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        exchange?.backendWritabilityChanged(self)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isOpen = false
        timer.cancel()
        pool?.remove(self)
        pool = nil
        let exchange = self.exchange
        self.exchange = nil
        exchange?.backendClosed(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A malformed response or a reset: the exchange learns of it from the close.
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if readsPaused {
            pendingRead = true
        } else {
            context.read()
        }
    }

    private func expired() {
        if let exchange {
            exchange.backendTimedOut(self)
        }
        // Busy or idle for too long: either way the connection goes.
        close()
    }

    /// Takes the connection out of the pipeline's HTTP handling for a tunnel (after a 101).
    func releaseForTunnel() {
        exchange = nil
        tunneling = true
        timer.cancel()
    }

    /// The backend channel (nil once the handler left its pipeline).
    var channel: Channel? { context?.channel }
}
