import NIOCore
import NIOHTTP1

/// Decodes the HTTP/1 requests of a client connection into `ProxyRequestPart`s: the head with its
/// fields as bytes (`HTTP1HeadParser`), the body as it arrives without its chunk framing, the end.
/// Pipelined requests follow one another. After a request that asks for an upgrade (WebSocket's
/// handshake) it stops: what follows belongs to the new protocol, and is handed on as plain bytes
/// when the decoder leaves the pipeline (as NIO's decoder with `.forwardBytes`).
final class HTTP1RequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = ProxyRequestPart

    private let limits: HTTP1Limits
    /// The body of the request being decoded; nil between requests.
    private var body: HTTP1BodyFramer?
    private var stopAfterMessage = false
    private var stopped = false

    init(limits: HTTP1Limits) {
        self.limits = limits
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !stopped else { return .needMoreData }
        if var framer = body {
            let progressed = try framer.deliverNext(&buffer) { event in
                if case .end = event, stopAfterMessage { stopped = true }
                context.fireChannelRead(wrapInboundOut(event.part()))
            }
            body = framer.state == .done ? nil : framer
            return progressed ? .continue : .needMoreData
        }
        guard let head = try HTTP1HeadParser.request(buffer, limits: limits) else { return .needMoreData }
        let framer = try HTTP1BodyFramer.forRequest(head.framing, limits: limits)
        buffer.moveReaderIndex(forwardBy: head.length)
        let (method, uri, version) = head.startLine
        let request = ProxyRequestHead(method: method, uri: uri, version: version, fields: head.fields,
                                       isKeepAlive: head.framing.keepAlive(version), isUpgrade: head.framing.upgrade(version))
        // llhttp stops after CONNECT too: what follows is a tunnel, not HTTP.
        stopAfterMessage = request.isUpgrade || method == .CONNECT
        context.fireChannelRead(wrapInboundOut(.head(request)))
        if let framer {
            body = framer
        } else {
            stopped = stopAfterMessage
            context.fireChannelRead(wrapInboundOut(.end(nil)))
        }
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if !stopped, !seenEOF {
            while buffer.readableBytes > 0, case .continue = try decode(context: context, buffer: &buffer) {}
        }
        // A client that leaves inside a request is gone: its connection's close ends the exchange.
        if !seenEOF, buffer.readableBytes > 0 {
            // Removed after an upgrade: the bytes of the new protocol go to the handler behind.
            context.fireChannelRead(NIOAny(buffer.readSlice(length: buffer.readableBytes)!))
        }
        return .needMoreData
    }
}
