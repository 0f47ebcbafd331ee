import NIOCore
import NIOHTTP1

/// Reads a backend's HTTP/1 responses from the bytes as they arrive, one part at a time, for
/// `BackendConnection`, which calls it directly (no `ByteToMessageHandler` in the backend
/// channel's pipeline: see `HTTP1RequestReader`). Interim 1xx responses are dropped (the proxy
/// answers "Expect: 100-continue" itself), a 101 ends the HTTP part of the connection (the bytes
/// after its head are taken by `takeRemaining` for the tunnel), and a body without length ends
/// when the backend closes (`finish`).
struct HTTP1ResponseReader {
    private var buffer = ByteBuffer()
    private var body: HTTP1BodyFramer?
    private var endDue = false
    /// After a 101: what follows is not HTTP.
    private(set) var stopped = false
    /// The request being answered is HEAD: its response has no body whatever its Content-Length says.
    var answersHEAD = false

    /// Whether bytes wait to be read.
    var hasBytes: Bool { buffer.readableBytes > 0 }

    mutating func append(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer = bytes
        } else {
            buffer.writeImmutableBuffer(bytes)
        }
    }

    /// The next part, nil when more bytes are needed (or after a 101). A malformed response throws.
    mutating func next() throws -> ProxyResponsePart? {
        let part = try readNext()
        // An emptied read buffer goes back to NIO's receive-buffer pool (see HTTP1RequestReader).
        if buffer.readableBytes == 0, buffer.capacity > 0 { buffer = ByteBuffer() }
        return part
    }

    private mutating func readNext() throws -> ProxyResponsePart? {
        if endDue {
            endDue = false
            return .end(nil)
        }
        guard !stopped else { return nil }
        if var framer = body {
            guard let event = try framer.next(&buffer) else {
                body = framer
                return nil
            }
            switch event {
            case .body(let bytes):
                if framer.state == .done {
                    body = nil
                    endDue = true
                } else {
                    body = framer
                }
                return .body(bytes)
            case .end(let trailers):
                body = nil
                return .end(trailers)
            }
        }
        while true {
            guard buffer.readableBytes > 0, let head = try HTTP1HeadParser.response(buffer, limits: .backendResponse) else { return nil }
            buffer.moveReaderIndex(forwardBy: head.length)
            let (version, status) = head.startLine
            let code = status.code
            // An interim response (100 Continue, 103 Early Hints) is dropped; the final one follows.
            if code < 200, code != 101 { continue }
            let response = ProxyResponseHead(version: version, status: status, fields: head.fields,
                                             isKeepAlive: head.framing.keepAlive(version))
            if code == 101 {
                stopped = true
                endDue = true
            } else if answersHEAD || code == 204 || code == 304 {
                endDue = true
            } else if let framer = HTTP1BodyFramer.forResponse(head.framing, limits: .backendResponse) {
                body = framer
            } else {
                endDue = true
            }
            return .head(response)
        }
    }

    /// The backend closed the connection: the end of a body that runs to the close; nil when no
    /// response was under way. Throws when a head or any other body was cut short.
    mutating func finish() throws -> ProxyResponsePart? {
        if var framer = body {
            body = nil
            switch try framer.finish() {
            case .end(let trailers): return .end(trailers)
            case .body(let bytes): return .body(bytes)
            }
        }
        if !stopped, buffer.readableBytes > 0 { throw HTTP1ParseError.incomplete }
        return nil
    }

    /// The bytes left unread (after a 101: the first bytes of the new protocol).
    mutating func takeRemaining() -> ByteBuffer? {
        guard buffer.readableBytes > 0 else { return nil }
        defer { buffer = ByteBuffer() }
        return buffer
    }
}
