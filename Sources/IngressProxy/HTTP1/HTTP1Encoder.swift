import NIOCore
import NIOHTTP1

/// Writes HTTP/1 messages as the proxy frames them: the head as one buffer (start line, the fields'
/// bytes, the empty line), the body as it is or in chunks when the head says
/// "transfer-encoding: chunked" (the proxy sets no other coding), the end as the last chunk and
/// trailers. The proxy decides the framing headers itself (`ForwardedHeaders`); this only follows
/// them. Requests to backends and responses to clients share it.
final class HTTP1Encoder<Head: HTTP1WritableHead & Equatable & Sendable>: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ProxyPart<Head>
    typealias OutboundOut = ByteBuffer

    private var chunked = false
    private var allocator = ByteBufferAllocator()

    func handlerAdded(context: ChannelHandlerContext) {
        allocator = context.channel.allocator
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            var buffer = allocator.buffer(capacity: 96 + head.fields.wireLength)
            head.writeStartLine(to: &buffer)
            head.fields.write(to: &buffer)
            buffer.writeStaticString("\r\n")
            chunked = head.fields.contains("transfer-encoding")
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .body(let body):
            guard chunked else {
                context.write(wrapOutboundOut(body), promise: promise)
                return
            }
            // An empty chunk would end the body.
            guard body.readableBytes > 0 else {
                promise?.succeed(())
                return
            }
            if body.readableBytes <= 4096 {
                // Small chunks go as one buffer: a copy is cheaper than two more iovecs.
                var buffer = allocator.buffer(capacity: body.readableBytes + 20)
                writeChunkSize(body.readableBytes, to: &buffer)
                buffer.writeImmutableBuffer(body)
                buffer.writeStaticString("\r\n")
                context.write(wrapOutboundOut(buffer), promise: promise)
            } else {
                var size = allocator.buffer(capacity: 20)
                writeChunkSize(body.readableBytes, to: &size)
                context.write(wrapOutboundOut(size), promise: nil)
                context.write(wrapOutboundOut(body), promise: nil)
                context.write(wrapOutboundOut(allocator.buffer(staticString: "\r\n")), promise: promise)
            }
        case .end(let trailers):
            if chunked {
                var buffer = allocator.buffer(capacity: 5 + (trailers?.wireLength ?? 0))
                buffer.writeStaticString("0\r\n")
                trailers?.write(to: &buffer)
                buffer.writeStaticString("\r\n")
                chunked = false
                context.write(wrapOutboundOut(buffer), promise: promise)
            } else if let promise {
                // Nothing to send, but the promise completes in order with the writes before it.
                context.write(wrapOutboundOut(allocator.buffer(capacity: 0)), promise: promise)
            }
        }
    }

    private func writeChunkSize(_ size: Int, to buffer: inout ByteBuffer) {
        buffer.writeString(String(size, radix: 16))
        buffer.writeStaticString("\r\n")
    }
}
