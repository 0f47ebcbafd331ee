import NIOCore
import NIOHTTP1

/// Answers a request the HTTP/1 decoder refuses, then lets the decoder close the connection
/// (NIO's HTTPServerProtocolErrorHandler, with nginx's statuses): a header line or header over the
/// limits is 431 (nginx answers 414 for a long request line and 400 "Request Header Or Cookie Too
/// Large" for a long header; RFC 6585's 431 says what happened to both), anything else malformed 400.
final class HTTP1ErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A response head went out and its end not yet.
    private var responseInProgress = false
    /// The request being answered: its head came and its end not yet.
    private var requestOpen = false
    /// The proxy answered a request whose body is still coming (a 404 before the upload ended):
    /// a second response to it would break the exchange.
    private var answeredBeforeRequestEnd = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestOpen = true
        case .end:
            requestOpen = false
            answeredBeforeRequestEnd = false
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if !responseInProgress, !answeredBeforeRequestEnd {
            var status = HTTPResponseStatus.badRequest
            if case .headerOverflow = parserError { status = .requestHeaderFieldsTooLarge }
            for part in LocalResponse.parts(status, version: .http1_1, close: true, allocator: context.channel.allocator) {
                context.write(wrapOutboundOut(part), promise: nil)
            }
            context.flush()
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            responseInProgress = true
        case .end:
            responseInProgress = false
            if requestOpen { answeredBeforeRequestEnd = true }
        default:
            break
        }
        context.write(data, promise: promise)
    }
}
