import NIOCore
import NIOHTTP1

/// What a backend connection's response decoder must know of the request it answers.
final class BackendRequestInfo {
    /// The request was HEAD: the response has no body whatever its Content-Length says.
    var isHEAD = false
}

/// Decodes a backend's HTTP/1 responses into `ProxyResponsePart`s. Interim 1xx responses are
/// dropped (the proxy answers "Expect: 100-continue" itself), a 101 ends the HTTP part of the
/// connection (its bytes after the head are handed on when the decoder leaves the pipeline), and a
/// body without length ends when the backend closes.
final class HTTP1ResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = ProxyResponsePart

    private let request: BackendRequestInfo
    private var body: HTTP1BodyFramer?
    private var stopped = false

    init(request: BackendRequestInfo) {
        self.request = request
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !stopped else { return .needMoreData }
        if var framer = body {
            let progressed = try framer.deliverNext(&buffer) { context.fireChannelRead(wrapInboundOut($0.part())) }
            body = framer.state == .done ? nil : framer
            return progressed ? .continue : .needMoreData
        }
        guard let head = try HTTP1HeadParser.response(buffer, limits: .backendResponse) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: head.length)
        let (version, status) = head.startLine
        let code = status.code
        if code < 200, code != 101 { return .continue }
        let response = ProxyResponseHead(version: version, status: status, fields: head.fields,
                                         isKeepAlive: head.framing.keepAlive(version))
        context.fireChannelRead(wrapInboundOut(.head(response)))
        if code == 101 {
            stopped = true
            context.fireChannelRead(wrapInboundOut(.end(nil)))
        } else if request.isHEAD || code == 204 || code == 304 {
            context.fireChannelRead(wrapInboundOut(.end(nil)))
        } else if let framer = HTTP1BodyFramer.forResponse(head.framing, limits: .backendResponse) {
            body = framer
        } else {
            context.fireChannelRead(wrapInboundOut(.end(nil)))
        }
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if !stopped {
            while buffer.readableBytes > 0, case .continue = try decode(context: context, buffer: &buffer) {}
        }
        if seenEOF {
            if var framer = body {
                // The close ends a body without length; any other body (or a head) is cut short.
                body = nil
                context.fireChannelRead(wrapInboundOut(try framer.finish().part()))
            } else if !stopped, buffer.readableBytes > 0 {
                throw HTTP1ParseError.incomplete
            }
        } else if buffer.readableBytes > 0 {
            context.fireChannelRead(NIOAny(buffer.readSlice(length: buffer.readableBytes)!))
        }
        return .needMoreData
    }
}
