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
                switch event {
                case .body(let bytes): context.fireChannelRead(wrapInboundOut(.body(bytes)))
                case .end(let trailers): endMessage(context, trailers)
                }
            }
            body = framer.state == .done ? nil : framer
            return progressed ? .continue : .needMoreData
        }
        guard let head = try HTTP1HeadParser.request(buffer, limits: limits) else { return .needMoreData }
        let framer = try HTTP1BodyFramer.forRequest(head.framing, limits: limits)
        buffer.moveReaderIndex(forwardBy: head.length)
        let (method, uri, version) = head.startLine
        // llhttp stops after CONNECT too: what follows is a tunnel, not HTTP.
        stopAfterMessage = method == .CONNECT || (version == .http1_1 && head.framing.connectionUpgrade && head.framing.hasUpgradeField)
        let request = ProxyRequestHead(method: method, uri: uri, version: version, fields: head.fields,
                                       isKeepAlive: head.framing.keepAlive(version))
        context.fireChannelRead(wrapInboundOut(.head(request)))
        if let framer {
            body = framer
        } else {
            endMessage(context, nil)
        }
        return .continue
    }

    private func endMessage(_ context: ChannelHandlerContext, _ trailers: ProxyTrailers?) {
        if stopAfterMessage { stopped = true }
        context.fireChannelRead(wrapInboundOut(.end(trailers)))
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
