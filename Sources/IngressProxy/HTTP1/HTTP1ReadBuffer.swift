import NIOCore

/// What both HTTP/1 readers keep between reads (`HTTP1RequestReader` on the client side,
/// `HTTP1ResponseReader` on the backend side): the bytes not read yet, and the framing of the
/// body being read with its end still to be handed out. The readers differ in their heads and in
/// when they stop; the bytes and the bodies are read the same way.
struct HTTP1ReadBuffer {
    /// The bytes not read yet.
    private(set) var bytes = ByteBuffer()
    /// The body of the message being read; nil between messages.
    var body: HTTP1BodyFramer?
    /// The last body bytes were handed out, or the message has no body: its end is next.
    var endDue = false

    /// Whether bytes wait to be read (a pipelined message, or the start of one).
    var hasBytes: Bool { bytes.readableBytes > 0 }

    /// Whether the next part belongs to the message under way (its body or its end).
    var inMessage: Bool { endDue || body != nil }

    /// Adds what a read brought. Most reads find nothing left from the one before: the read's own
    /// buffer is kept then, without a copy.
    mutating func append(_ more: ByteBuffer) {
        if bytes.readableBytes == 0 {
            bytes = more
        } else {
            bytes.writeImmutableBuffer(more)
        }
    }

    /// Lets go of an emptied read buffer: with no reference left it goes back to NIO's pool of
    /// receive buffers for the next read, instead of a new one being allocated.
    mutating func releaseIfEmpty() {
        if bytes.readableBytes == 0, bytes.capacity > 0 { bytes = ByteBuffer() }
    }

    /// Moves past a head the parser read from `bytes`.
    mutating func consume(_ length: Int) {
        bytes.moveReaderIndex(forwardBy: length)
    }

    /// The next part of the message under way (`inMessage`): its due end, body bytes as they
    /// arrive without their chunk framing, or the end with the chunked body's trailers; nil when
    /// more bytes are needed.
    mutating func nextBodyPart<Head>() throws -> ProxyPart<Head>? {
        if endDue {
            endDue = false
            return .end(nil)
        }
        guard var framer = body else { return nil }
        guard let event = try framer.next(&bytes) else {
            body = framer
            return nil
        }
        switch event {
        case .body(let data):
            if framer.state == .done {
                body = nil
                endDue = true
            } else {
                body = framer
            }
            return .body(data)
        case .end(let trailers):
            body = nil
            return .end(trailers)
        }
    }

    /// The bytes left unread (after an upgrade: the first bytes of the new protocol).
    mutating func takeRemaining() -> ByteBuffer? {
        guard bytes.readableBytes > 0 else { return nil }
        defer { bytes = ByteBuffer() }
        return bytes
    }
}
