import NIOCore
import NIOHTTP1

/// Between an HTTP/2 stream's HTTP/1 codec (NIOHTTP2's `HTTP2FramePayloadToHTTP1ServerCodec`) and
/// `ProxyHandler`: hands NIO's request parts to the proxy as its own, with a method call (the
/// proxy's handler reads bytes from the channel for HTTP/1 and takes parts this way for HTTP/2),
/// and turns the proxy's response parts into NIO's (`responsePart`), so one handler serves HTTP/1
/// connections and HTTP/2 streams.
final class HTTP2StreamAdapter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart

    private let proxy: ProxyHandler

    init(proxy: ProxyHandler) {
        self.proxy = proxy
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            proxy.receiveFromStream(.head(ProxyRequestHead(head)))
        case .body(let body):
            proxy.receiveFromStream(.body(body))
        case .end(let trailers):
            proxy.receiveFromStream(.end(trailers.map { ProxyTrailers(HeaderFields($0)) }))
        }
    }

    /// A response part as the stream's codec takes it.
    static func responsePart(_ part: ProxyResponsePart) -> HTTPServerResponsePart {
        switch part {
        case .head(let head): return .head(head.httpResponseHead)
        case .body(let body): return .body(.byteBuffer(body))
        case .end(let trailers): return .end(trailers?.fields.httpHeaders)
        }
    }
}
