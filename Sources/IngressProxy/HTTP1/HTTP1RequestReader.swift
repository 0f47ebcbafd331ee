import NIOCore
import NIOHTTP1

/// Reads the HTTP/1 requests of a client connection from the bytes as they arrive, one part at a
/// time: the head with its fields as bytes (`HTTP1HeadParser`), the body as it arrives without its
/// chunk framing, the end. Pipelined requests follow one another; the handler asks for the next
/// part only when it can take it, so a pipelined request waits here as bytes, unparsed, as in
/// nginx (which reads the next request of a connection only after the response before it).
///
/// It is called by `ProxyHandler` directly rather than sitting before it in the channel pipeline
/// as a `ByteToMessageHandler`: that handler fired every part through the pipeline, wrapped in
/// NIOAny, and kept a second buffer of its own (docs/benchmarks.md, "Ingress proxy").
///
/// After a request that asks for an upgrade (WebSocket's handshake) or a CONNECT it stops (as
/// llhttp does): what follows belongs to the new protocol and is taken as plain bytes by
/// `takeRemaining` when the connection becomes a tunnel.
struct HTTP1RequestReader {
    private let limits: HTTP1Limits
    private var read = HTTP1ReadBuffer()
    private var stopAfterMessage = false
    /// No more HTTP: after an upgrade or CONNECT request, or a malformed one.
    private(set) var stopped = false

    init(limits: HTTP1Limits) {
        self.limits = limits
    }

    /// Whether bytes wait to be read (a pipelined request, or the start of one).
    var hasBytes: Bool { read.hasBytes }

    /// Adds what a read brought.
    mutating func append(_ bytes: ByteBuffer) {
        read.append(bytes)
    }

    /// The next part, nil when more bytes are needed (or the reader has stopped). A malformed
    /// request throws `HTTP1ParseError` and stops the reader.
    mutating func next() throws -> ProxyRequestPart? {
        do {
            let part = try readNext()
            read.releaseIfEmpty()
            return part
        } catch {
            stopped = true
            throw error
        }
    }

    private mutating func readNext() throws -> ProxyRequestPart? {
        // A due end goes out even after a stop: it ends the message under way.
        if read.endDue || (!stopped && read.inMessage) {
            guard let part: ProxyRequestPart = try read.nextBodyPart() else { return nil }
            if case .end = part { stopped = stopAfterMessage }
            return part
        }
        guard !stopped, read.hasBytes, let head = try HTTP1HeadParser.request(read.bytes, limits: limits) else { return nil }
        let framer = try HTTP1BodyFramer.forRequest(head.framing, limits: limits)
        read.consume(head.length)
        let (method, uri, version) = head.startLine
        let request = ProxyRequestHead(method: method, uri: uri, version: version, fields: head.fields,
                                       isKeepAlive: head.framing.keepAlive(version), isUpgrade: head.framing.upgrade(version))
        // llhttp stops after CONNECT too: what follows is a tunnel, not HTTP.
        stopAfterMessage = request.isUpgrade || method == .CONNECT
        if let framer {
            read.body = framer
        } else {
            // No content-length and no chunking: an HTTP/1 request without a body; its end follows.
            read.endDue = true
        }
        return .head(request)
    }

    /// The bytes left unread (after an upgrade request: the first bytes of the new protocol).
    mutating func takeRemaining() -> ByteBuffer? {
        read.takeRemaining()
    }
}
