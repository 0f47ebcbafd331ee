import NIOCore

/// The client side's HTTP/1 encoder: the proxy's responses.
final class HTTP1ResponseEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ProxyResponsePart
    typealias OutboundOut = ByteBuffer

    private var writer = HTTP1MessageWriter()
    private var allocator = ByteBufferAllocator()

    func handlerAdded(context: ChannelHandlerContext) {
        allocator = context.channel.allocator
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writer.write(unwrapOutboundIn(data), allocator: allocator, promise: promise) { buffer, promise in
            context.write(wrapOutboundOut(buffer), promise: promise)
        }
    }
}

/// A backend connection's HTTP/1 encoder: the requests the proxy forwards.
final class HTTP1RequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ProxyRequestPart
    typealias OutboundOut = ByteBuffer

    private var writer = HTTP1MessageWriter()
    private var allocator = ByteBufferAllocator()

    func handlerAdded(context: ChannelHandlerContext) {
        allocator = context.channel.allocator
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writer.write(unwrapOutboundIn(data), allocator: allocator, promise: promise) { buffer, promise in
            context.write(wrapOutboundOut(buffer), promise: promise)
        }
    }
}
