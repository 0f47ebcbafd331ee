import NIOCore

/// The bytes a handler writes to its channel between two flushes, gathered: a response's head and
/// a small body become one buffer, so the flush is one write(2) of one pending write instead of
/// a writev of two, and one write call down the pipeline instead of one per part. A larger buffer
/// goes as it is (no copy), after what was gathered before it.
///
/// Both sides of the proxy's HTTP/1 data path use it (`ProxyHandler` towards the client,
/// `BackendConnection` towards the backend), writing with no promise unless someone waits for the
/// bytes to be sent (a close after the last response).
struct OutboundBytes {
    /// Buffers up to this size are copied into the gathered one; larger ones are written as they
    /// are (nginx's proxy_buffer_size is 4k or 8k: a response up to that size goes in one write).
    static let copyLimit = 4096

    private var gathered: ByteBuffer?
    /// Something was written to the channel since the last flush.
    private var unflushed = false

    /// Whether anything waits to be flushed.
    var isEmpty: Bool { gathered == nil && !unflushed }

    mutating func add(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        let size = bytes.readableBytes
        if size <= Self.copyLimit, gathered != nil {
            gathered?.writeImmutableBuffer(bytes)
            return
        }
        if let previous = gathered {
            gathered = nil
            context.write(NIOAny(previous), promise: nil)
            unflushed = true
        }
        if size <= Self.copyLimit {
            gathered = bytes
        } else {
            context.write(NIOAny(bytes), promise: nil)
            unflushed = true
        }
    }

    /// Writes what was gathered and flushes; `promise` completes when every byte written before it
    /// has gone to the socket (or failed). Nothing to flush and no promise: nothing happens.
    mutating func flush(context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        if let bytes = gathered {
            gathered = nil
            context.write(NIOAny(bytes), promise: promise)
        } else if let promise {
            // Nothing to send, but the promise completes in order with the writes before it.
            context.write(NIOAny(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        } else if !unflushed {
            return
        }
        unflushed = false
        context.flush()
    }

    /// Drops what was gathered (the connection is closing).
    mutating func discard() {
        gathered = nil
        unflushed = false
    }
}
