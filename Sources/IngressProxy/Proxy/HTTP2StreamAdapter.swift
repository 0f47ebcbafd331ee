import NIOCore
import NIOHTTP1

/// Between an HTTP/2 stream's HTTP/1 codec (NIOHTTP2's `HTTP2FramePayloadToHTTP1ServerCodec`) and
/// `ProxyHandler`: turns NIO's request parts into the proxy's and its response parts back, so one
/// handler serves HTTP/1 connections and HTTP/2 streams.
final class HTTP2StreamAdapter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = ProxyRequestPart
    typealias OutboundIn = ProxyResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            context.fireChannelRead(wrapInboundOut(.head(ProxyRequestHead(head))))
        case .body(let body):
            context.fireChannelRead(wrapInboundOut(.body(body)))
        case .end(let trailers):
            context.fireChannelRead(wrapInboundOut(.end(trailers.map { ProxyTrailers(HeaderFields($0)) })))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            context.write(wrapOutboundOut(.head(head.httpResponseHead)), promise: promise)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: promise)
        case .end(let trailers):
            context.write(wrapOutboundOut(.end(trailers?.fields.httpHeaders)), promise: promise)
        }
    }
}
