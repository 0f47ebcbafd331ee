import NIOCore
import NIOHTTP1

/// A backend connection (HTTP/1.1 to a pod), the only handler of its channel's pipeline: it writes
/// the requests it is given as bytes (`HTTP1MessageWriter`), reads the responses from the bytes as
/// they come (`HTTP1ResponseReader`) and hands each part to the exchange it serves with a method
/// call, holds reads while the client cannot take more (so a fast backend cannot fill the proxy's
/// memory), times out a silent backend, and sits in its event loop's pool between requests.
///
/// One handler instead of an encoder, a `ByteToMessageHandler` and this one: every part used to
/// pass through the pipeline wrapped in NIOAny, and that machinery was most of what was left of the
/// proxy's user time per request (docs/benchmarks.md, "Ingress proxy").
final class BackendConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

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
    /// Handed over to a tunnel: no more HTTP on this connection.
    private var tunneling = false
    private var readsPaused = false
    private var pendingRead = false
    private let timer: DeadlineTimer
    private var timeout: TimeAmount = .seconds(60)
    private var reader = HTTP1ResponseReader()
    private var writer = HTTP1MessageWriter()
    private var output = OutboundBytes()
    /// The channel's allocator, kept (see ProxyHandler.allocator).
    private var allocator = ByteBufferAllocator()

    init(endpoint: BackendEndpoint, pool: BackendConnectionPool, eventLoop: EventLoop) {
        self.endpoint = endpoint
        self.pool = pool
        self.timer = DeadlineTimer(eventLoop: eventLoop)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
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

    /// Writes a part of the request (gathered until `flush`).
    func write(_ part: ProxyRequestPart) {
        if case .head(let head) = part {
            writeHead(head)
            return
        }
        guard let context else { return }
        writer.write(part, allocator: allocator, promise: nil) { bytes, _ in
            output.add(bytes, context: context)
        }
        exchangeMoved()
    }

    /// Writes the request's head (gathered until `flush`; the hot path calls this with the head
    /// rather than a part, whose head case is boxed).
    func writeHead(_ head: ProxyRequestHead) {
        guard let context else { return }
        reader.answersHEAD = head.method == .HEAD
        output.add(writer.writeHead(head, allocator: allocator), context: context)
        exchangeMoved()
    }

    /// Bytes moving either way restart the backend timeout: a response's (nginx
    /// proxy_read_timeout) and a request's (proxy_send_timeout: an upload longer than the timeout
    /// does not answer 504 while it flows).
    private func exchangeMoved() {
        if exchange != nil, !readsPaused { timer.set(in: timeout) }
    }

    /// Sends what was written since the last flush; nothing when nothing was.
    func flush() {
        guard let context else { return }
        output.flush(context: context)
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
        // After a 101 the bytes wait in the reader (which has stopped) for the tunnel.
        reader.append(unwrapInboundIn(data))
        guard !tunneling else { return }
        exchangeMoved()
        deliver(context: context)
    }

    /// Hands the exchange every response part the bytes read so far hold. The exchange may end,
    /// give the connection back to the pool and even take it again for a pipelined request, all
    /// within this loop: each part goes to whichever exchange is attached when it is read.
    private func deliver(context: ChannelHandlerContext) {
        while !tunneling {
            let part: ProxyResponsePart?
            do {
                part = try reader.next()
            } catch {
                // A malformed response: the exchange learns of it from the close (502 or a cut response).
                context.close(promise: nil)
                return
            }
            guard let part else { return }
            guard let exchange else {
                // A response nobody asked for (or bytes after one): the connection is unusable.
                context.close(promise: nil)
                return
            }
            exchange.backendRead(part, from: self)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.backendReadComplete(from: self)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        exchange?.backendWritabilityChanged(self)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The close ends a body without length (RFC 9112 §6.3 rule 8); a cut head or any other
        // body is the exchange's to handle as a close mid-response.
        if !tunneling, let exchange, let end = try? reader.finish() {
            exchange.backendRead(end, from: self)
        }
        isOpen = false
        timer.cancel()
        output.discard()
        pool?.remove(self)
        pool = nil
        let exchange = self.exchange
        self.exchange = nil
        exchange?.backendClosed(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A reset or another socket error: the exchange learns of it from the close.
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

    /// Takes the connection out of HTTP for a tunnel (after a 101); the handler leaves the
    /// pipeline on the next tick, for a `TunnelHandler`.
    func releaseForTunnel() {
        exchange = nil
        tunneling = true
        timer.cancel()
    }

    /// The bytes that came after the 101's head (the first of the new protocol), for the tunnel.
    func takeTunnelBytes() -> ByteBuffer? {
        reader.takeRemaining()
    }

    /// The backend channel (nil once the handler left its pipeline).
    var channel: Channel? { context?.channel }
}
