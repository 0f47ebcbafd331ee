import Logging
import NIOCore
import NIOHTTP1

/// The proxy for one client HTTP/1.1 connection, or for one HTTP/2 stream: routes each request by
/// the current table, sends it to a ready endpoint over a pooled keep-alive connection of the same
/// event loop, and streams the bodies both ways with backpressure, never holding a whole body.
///
/// HTTP/1: the only handler of the connection's pipeline. It reads the requests from the bytes
/// itself (`HTTP1RequestReader`) and writes the responses as bytes (`HTTP1MessageWriter`, gathered
/// by `OutboundBytes` into one write per flush), and its backend connection does the same on its
/// side (`BackendConnection`): no part passes through a channel pipeline, which with a decoder and
/// an encoder handler on each side was most of the proxy's user time per request
/// (docs/benchmarks.md, "Ingress proxy"). HTTP/2: behind NIOHTTP2's HTTP/1 codec and
/// `HTTP2StreamAdapter`, which hands it the stream's request parts; it writes NIO's response parts
/// for that codec.
///
/// HTTP/1.1 requests are served one at a time: a pipelined request stays unread bytes, with reads
/// held, until the response before it has ended (RFC 9112 §9.3.2; nginx reads the next request
/// only then too; NIO's HTTPServerPipelineHandler holds reads during every response, which costs
/// two epoll_ctl calls per request). A request keeps the backend it chose: a table swapped
/// meanwhile applies from the next request on (graceful reload). A request the reader refuses is
/// answered here: 431 for headers over the limits, 400 otherwise (nginx answers 414 for a long
/// request line and 400 for a long header; RFC 6585's 431 says what happened to both).
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase {
        /// Waiting for a request head.
        case idle
        /// A backend connection is being opened; the request waits in `queue`.
        case connecting
        /// The request goes to `backend` and its response comes back.
        case forwarding
        /// The proxy answered itself (or the response is done) and drops what the client still sends.
        case local
        /// A 101 came back: the connection is becoming a tunnel.
        case upgrading
        case closed
    }

    let shared: ProxyShared
    let isHTTP2: Bool
    let scheme: String
    var context: ChannelHandlerContext?
    var phase = Phase.idle
    let timer: DeadlineTimer
    var origin: ForwardedHeaders.Origin?

    // The request.
    var method = HTTPMethod.GET
    var clientVersion = HTTPVersion.http1_1
    var clientKeepAlive = true
    var requestHasBody = false
    var forwardHead: ProxyRequestHead?
    /// Whether the body framing is known (HTTP/2 without content-length waits for the next part).
    var framed = true
    var isUpgrade = false
    var requestComplete = false
    var queue = CircularBuffer<ProxyRequestPart>(initialCapacity: 4)
    var headSent = false
    var bodySent = false
    var endSent = false

    // The backend.
    var target: IngressBackendTarget?
    var attemptsLeft = 0
    var nextIndex = 0
    var backend: BackendConnection?
    var retriedReused = false
    var backendKeepAlive = true

    // The response.
    var responseStarted = false
    var responseComplete = false
    var framing = ForwardedHeaders.ResponseFraming(closeAfter: false, bodyless: false)

    // Reads from the client, held while the backend cannot take more, or while a pipelined
    // request waits.
    var readsPaused = false
    var holdingForPipeline = false
    var pendingRead = false
    /// The server is shutting down: the connection closes after the response in progress.
    var quiescing = false

    // HTTP/1 bytes both ways.
    var reader: HTTP1RequestReader
    /// `readRequests` is on the stack (a request it dispatched may finish and call it again).
    var readingRequests = false
    var writer = HTTP1MessageWriter()
    var output = OutboundBytes()
    /// The channel's allocator, kept: reading it through the channel on every write showed in profiles.
    var allocator = ByteBufferAllocator()

    init(shared: ProxyShared, isHTTP2: Bool, scheme: String, eventLoop: EventLoop, origin: ForwardedHeaders.Origin? = nil) {
        self.shared = shared
        self.origin = origin
        self.isHTTP2 = isHTTP2
        self.scheme = scheme
        self.timer = DeadlineTimer(eventLoop: eventLoop)
        self.reader = HTTP1RequestReader(limits: HTTP1Limits(maxLine: shared.config.maxHeaderLineBytes,
                                                             maxHead: shared.config.maxHeaderBytes))
    }

    var config: IngressProxyConfig { shared.config }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
        timer.onExpire = { [unowned self] in self.clientTimedOut() }
        // An HTTP/1 connection must send a request header in time (nginx client_header_timeout);
        // an HTTP/2 connection's idleness is its connection handler's business.
        if !isHTTP2 { timer.set(in: config.clientHeaderTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer.cancel()
        self.context = nil
    }

    // MARK: Client to proxy

    func dispatch(_ part: ProxyRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            receiveHead(head, context: context)
        case .body(let buffer):
            receiveBody(buffer)
        case .end:
            receiveEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if phase == .forwarding, headSent { backend?.flush() }
        context.fireChannelReadComplete()
    }

    private func receiveHead(_ head: ProxyRequestHead, context: ChannelHandlerContext) {
        guard phase == .idle else { return }
        timer.set(nil)
        resetRequest()
        method = head.method
        clientVersion = head.version
        clientKeepAlive = isHTTP2 || head.isKeepAlive
        requestHasBody = isHTTP2 || head.fields.contains("transfer-encoding")
            || (head.fields.first("content-length").map { $0 != "0" } ?? false)
        if origin == nil {
            origin = ForwardedHeaders.Origin(
                clientAddress: context.channel.remoteAddress?.ipAddress ?? "",
                scheme: scheme,
                port: context.channel.localAddress?.port.map(String.init) ?? (scheme == "https" ? "443" : "80"),
                isHTTP2: isHTTP2)
        }
        let host = head.fields.first("host")
        if !isHTTP2, head.version.minor >= 1, host == nil {
            // RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host (nginx does).
            respondLocal(.badRequest)
            return
        }
        switch shared.table.route(host: host.map { Substring($0) }, target: head.uri) {
        case .badRequest:
            respondLocal(.badRequest)
        case .notFound:
            respondLocal(.notFound)
        case .backend(let target):
            guard target.unavailableReason == nil, !target.endpoints.isEmpty, let origin else {
                respondLocal(.serviceUnavailable)
                return
            }
            isUpgrade = !isHTTP2 && head.isUpgrade
            let forwarded = ForwardedHeaders.request(head, origin: origin, upgrade: isUpgrade)
            forwardHead = forwarded.head
            // An HTTP/1 request without content-length or chunking has no body: its end follows.
            framed = forwarded.framed || !isHTTP2
            self.target = target
            attemptsLeft = target.endpoints.count
            nextIndex = target.nextStart()
            phase = .connecting
            if !isHTTP2, ForwardedHeaders.expectsContinue(head) {
                let interim = ProxyResponseHead(version: head.version, status: .continue, fields: HeaderFields(capacity: 0))
                sendToClient(.head(interim))
                flushClient()
            }
            pauseReads()
            connectBackend(reuse: !isUpgrade)
        }
    }

    private func receiveBody(_ buffer: ByteBuffer) {
        switch phase {
        case .connecting:
            queue.append(.body(buffer))
        case .forwarding:
            if headSent, let backend {
                backend.write(.body(buffer))
                bodySent = true
                if !backend.isWritable { pauseReads() }
            } else {
                queue.append(.body(buffer))
                pumpQueue()
            }
        case .idle, .local, .upgrading, .closed:
            // The proxy answered already (or the client went): the rest of the body is dropped.
            break
        }
        if !requestComplete, !readsPaused { timer.set(in: config.clientBodyTimeout) }
    }

    private func receiveEnd() {
        requestComplete = true
        switch phase {
        case .connecting:
            timer.set(nil)
            queue.append(.end(nil))
        case .forwarding:
            timer.set(nil)
            if headSent, let backend {
                backend.write(.end(nil))
                endSent = true
                backend.flush()
            } else {
                queue.append(.end(nil))
                pumpQueue()
            }
        case .local:
            if responseComplete {
                finishExchange()
                if quiescing, !isHTTP2 {
                    abortClient()
                } else {
                    readRequests()
                }
            }
        case .idle, .upgrading, .closed:
            break
        }
    }

    /// Sends the head (once its framing is known) and what waits in the queue.
    func pumpQueue() {
        guard phase == .forwarding, let backend else { return }
        if !headSent {
            guard var head = forwardHead else { return }
            if !framed {
                guard let first = queue.first else { return }
                if case .body = first { head.fields.add(name: "transfer-encoding", value: "chunked") }
            }
            backend.writeHead(head)
            headSent = true
        }
        while let part = queue.popFirst() {
            switch part {
            case .body(let buffer):
                backend.write(.body(buffer))
                bodySent = true
            case .end:
                backend.write(.end(nil))
                endSent = true
            case .head:
                break
            }
        }
        backend.flush()
    }

    // MARK: Proxy to client

    /// Answers the request from the proxy itself (404, 400, 502, 503, 504).
    func respondLocal(_ status: HTTPResponseStatus) {
        guard let context else { return }
        closeBackend()
        queue.removeAll()
        phase = .local
        responseStarted = true
        // A request whose body is still coming is not drained: the connection closes after the
        // answer (an upload to a missing backend is not worth reading).
        let close = !isHTTP2 && (!clientKeepAlive || (requestHasBody && !requestComplete))
        let parts = LocalResponse.parts(status, version: clientVersion, close: close, isHTTP2: isHTTP2,
                                        headOnly: method == .HEAD, allocator: context.channel.allocator)
        for part in parts.dropLast() { sendToClient(part) }
        writeEnd(nil, close: close)
    }

    /// Writes the response's end, then closes the connection, finishes the exchange or drains the
    /// rest of the request.
    func writeEnd(_ trailers: ProxyTrailers?, close: Bool) {
        guard let context else { return }
        responseComplete = true
        sendToClient(.end(trailers))
        if close || quiescing, !isHTTP2 {
            phase = .closed
            closeAfterFlush(context)
            return
        }
        flushClient()
        if requestComplete {
            finishExchange()
            readRequests()
        } else {
            phase = .local
            resumeReads()
            timer.set(in: config.clientBodyTimeout)
        }
    }

    /// Lets go of the backend connection mid-exchange and closes it: what it still holds (a
    /// response under way, a request half sent) makes it unfit for the pool.
    func closeBackend() {
        guard let backend else { return }
        self.backend = nil
        backend.detach(idleTimeout: nil)
        backend.close()
    }

    /// The request and its response are both done: ready for the next one.
    func finishExchange() {
        phase = .idle
        resetRequest()
        if !isHTTP2 { timer.set(in: config.keepAliveTimeout) }
        resumeReads()
    }

    func resetRequest() {
        queue.removeAll(keepingCapacity: true)
        forwardHead = nil
        target = nil
        backend = nil
        framed = true
        isUpgrade = false
        requestComplete = false
        headSent = false
        bodySent = false
        endSent = false
        retriedReused = false
        backendKeepAlive = true
        responseStarted = false
        responseComplete = false
        requestHasBody = false
    }

    /// Ends the client side after a failure mid-response: the connection (HTTP/1) or the stream
    /// (HTTP/2, a reset) closes, so the client sees a truncated response, not a complete one.
    func abortClient() {
        phase = .closed
        context?.close(promise: nil)
    }

    private func clientTimedOut() {
        shared.logger.debug("ingress client timed out", metadata: ["phase": "\(phase)"])
        abortClient()
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .closed
        timer.cancel()
        queue.removeAll()
        output.discard()
        closeBackend()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        shared.logger.debug("ingress client connection error", metadata: ["error": "\(error)"])
        abortClient()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !isHTTP2, event is ChannelShouldQuiesceEvent {
            // Server shutdown: an idle connection closes now, a busy one after its response.
            quiescing = true
            if phase == .idle, !reader.hasBytes { abortClient() }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            backend?.resumeReads()
            if phase == .forwarding, !requestComplete, !readsPaused {
                timer.set(in: config.clientBodyTimeout)
            } else if phase != .idle {
                timer.set(nil)
            }
        } else if let backend {
            backend.pauseReads()
            // nginx send_timeout: a client that stops reading its response is let go.
            timer.set(in: config.clientSendTimeout)
        }
        context.fireChannelWritabilityChanged()
    }
}
