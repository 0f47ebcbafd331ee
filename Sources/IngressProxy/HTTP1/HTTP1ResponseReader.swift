import NIOCore
import NIOHTTP1

/// Reads a backend's HTTP/1 responses from the bytes as they arrive, one part at a time, for
/// `BackendConnection`, which calls it directly (no `ByteToMessageHandler` in the backend
/// channel's pipeline: see `HTTP1RequestReader`). Interim 1xx responses are dropped (the proxy
/// answers "Expect: 100-continue" itself), a 101 ends the HTTP part of the connection (the bytes
/// after its head are taken by `takeRemaining` for the tunnel), and a body without length ends
/// when the backend closes (`finish`).
struct HTTP1ResponseReader {
    private var read = HTTP1ReadBuffer()
    /// After a 101: what follows is not HTTP.
    private(set) var stopped = false
    /// The request being answered is HEAD: its response has no body whatever its Content-Length says.
    var answersHEAD = false

    /// Whether bytes wait to be read.
    var hasBytes: Bool { read.hasBytes }

    mutating func append(_ bytes: ByteBuffer) {
        read.append(bytes)
    }

    /// The next part, nil when more bytes are needed (or after a 101). A malformed response throws.
    mutating func next() throws -> ProxyResponsePart? {
        let part = try readNext()
        read.releaseIfEmpty()
        return part
    }

    private mutating func readNext() throws -> ProxyResponsePart? {
        // A 101's end is due after the stop.
        if read.endDue || (!stopped && read.inMessage) { return try read.nextBodyPart() }
        guard !stopped else { return nil }
        while true {
            guard read.hasBytes, let head = try HTTP1HeadParser.response(read.bytes, limits: .backendResponse) else { return nil }
            read.consume(head.length)
            let (version, status) = head.startLine
            let code = status.code
            // An interim response (100 Continue, 103 Early Hints) is dropped; the final one follows.
            if code < 200, code != 101 { continue }
            let response = ProxyResponseHead(version: version, status: status, fields: head.fields,
                                             isKeepAlive: head.framing.keepAlive(version))
            if code == 101 {
                stopped = true
                read.endDue = true
            } else if answersHEAD || code == 204 || code == 304 {
                read.endDue = true
            } else if let framer = HTTP1BodyFramer.forResponse(head.framing, limits: .backendResponse) {
                read.body = framer
            } else {
                read.endDue = true
            }
            return .head(response)
        }
    }

    /// The backend closed the connection: the end of a body that runs to the close; nil when no
    /// response was under way. Throws when a head or any other body was cut short.
    mutating func finish() throws -> ProxyResponsePart? {
        if var framer = read.body {
            read.body = nil
            switch try framer.finish() {
            case .end(let trailers): return .end(trailers)
            case .body(let bytes): return .body(bytes)
            }
        }
        if !stopped, read.hasBytes { throw HTTP1ParseError.incomplete }
        return nil
    }

    /// The bytes left unread (after a 101: the first bytes of the new protocol).
    mutating func takeRemaining() -> ByteBuffer? {
        read.takeRemaining()
    }
}
