import NIOCore
import NIOHTTP1

/// Writes HTTP/1 messages as the proxy frames them: the head as one buffer (start line, the fields'
/// bytes, the empty line), the body as it is or in chunks when the head says
/// "transfer-encoding: chunked" (the proxy sets no other coding), the end as the last chunk and
/// trailers. The proxy decides the framing headers itself (`ForwardedHeaders`); this only follows
/// them. Requests to backends (`BackendConnection`) and responses to clients (`ProxyHandler`)
/// share it.
struct HTTP1MessageWriter {
    /// Spare bytes in a head's buffer (a body this small, like the bench's 21 bytes, is appended
    /// without growing it).
    static let bodyRoom = 256
    private var chunked = false

    mutating func write<Head: HTTP1WritableHead>(_ part: ProxyPart<Head>, allocator: ByteBufferAllocator,
                                                 promise: EventLoopPromise<Void>?,
                                                 emit: (ByteBuffer, EventLoopPromise<Void>?) -> Void) {
        switch part {
        case .head(let head):
            emit(writeHead(head, allocator: allocator), promise)
        case .body(let body):
            guard chunked else {
                emit(body, promise)
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
                emit(buffer, promise)
            } else {
                var size = allocator.buffer(capacity: 20)
                writeChunkSize(body.readableBytes, to: &size)
                emit(size, nil)
                emit(body, nil)
                emit(allocator.buffer(staticString: "\r\n"), promise)
            }
        case .end(let trailers):
            if chunked {
                var buffer = allocator.buffer(capacity: 5 + (trailers?.fields.wireLength ?? 0))
                buffer.writeStaticString("0\r\n")
                trailers?.fields.write(to: &buffer)
                buffer.writeStaticString("\r\n")
                chunked = false
                emit(buffer, promise)
            } else if let promise {
                // Nothing to send, but the promise completes in order with the writes before it.
                emit(allocator.buffer(capacity: 0), promise)
            }
        }
    }

    /// A head's bytes. The proxy's hot paths call this with the head itself rather than a
    /// `ProxyPart`, whose head case is boxed: one allocation less per head.
    mutating func writeHead<Head: HTTP1WritableHead>(_ head: Head, allocator: ByteBufferAllocator) -> ByteBuffer {
        // Room for a small body after the head: `OutboundBytes` gathers the two into one buffer.
        var buffer = allocator.buffer(capacity: 96 + head.fields.wireLength + Self.bodyRoom)
        writeHead(head, into: &buffer)
        return buffer
    }

    /// A head's bytes appended to `buffer` (the epoll data path's per-connection buffers, reused
    /// from one message to the next).
    mutating func writeHead<Head: HTTP1WritableHead>(_ head: Head, into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: 96 + head.fields.wireLength)
        head.writeStartLine(to: &buffer)
        head.fields.write(to: &buffer)
        buffer.writeStaticString("\r\n")
        chunked = head.fields.contains("transfer-encoding")
    }

    private func writeChunkSize(_ size: Int, to buffer: inout ByteBuffer) {
        buffer.writeString(String(size, radix: 16))
        buffer.writeStaticString("\r\n")
    }
}
