import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Finds where an HTTP/1 message body ends (RFC 9112 §6-7): a length, chunks (whose framing it
/// removes: the proxy frames each side itself), or the end of the connection. Hands out the body
/// bytes as they arrive, never holding more than one read's worth.
struct HTTP1BodyFramer {
    enum State: Equatable {
        case length(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        /// The CRLF after a chunk's data.
        case chunkDataEnd
        case trailers
        /// Until the connection closes (a response without length, RFC 9112 §6.3 rule 8).
        case untilClose
        case done
    }

    enum Event {
        case body(ByteBuffer)
        case end(ProxyTrailers?)
    }

    private(set) var state: State
    /// A chunk-size line or the trailer section longer than this is refused.
    let limits: HTTP1Limits

    init(_ state: State, limits: HTTP1Limits) {
        self.state = state
        self.limits = limits
    }

    /// The framing a head declares; nil when the message has no body.
    static func forRequest(_ framing: MessageFraming, limits: HTTP1Limits) throws -> HTTP1BodyFramer? {
        if framing.hasTransferEncoding {
            // RFC 9112 §6.3: a request whose last coding is not chunked cannot be framed (400), and
            // one with both Transfer-Encoding and Content-Length is how requests are smuggled.
            guard framing.chunked else { throw HTTP1ParseError.malformed("transfer-encoding without chunked last") }
            guard framing.contentLength == nil else { throw HTTP1ParseError.malformed("both transfer-encoding and content-length") }
            return HTTP1BodyFramer(.chunkSize, limits: limits)
        }
        if let length = framing.contentLength, length > 0 { return HTTP1BodyFramer(.length(remaining: length), limits: limits) }
        return nil
    }

    /// The framing of a response with a body (not to HEAD, not 1xx, 204 or 304): Transfer-Encoding
    /// wins over Content-Length; a coding other than chunked, or no length, runs to the close.
    static func forResponse(_ framing: MessageFraming, limits: HTTP1Limits) -> HTTP1BodyFramer? {
        if framing.hasTransferEncoding {
            return HTTP1BodyFramer(framing.chunked ? .chunkSize : .untilClose, limits: limits)
        }
        if let length = framing.contentLength {
            return length > 0 ? HTTP1BodyFramer(.length(remaining: length), limits: limits) : nil
        }
        return HTTP1BodyFramer(.untilClose, limits: limits)
    }

    /// The next body bytes or the end, consumed from `buffer`; nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws -> Event? {
        while true {
            switch state {
            case .length(let remaining):
                return take(remaining, from: &buffer, rest: { .length(remaining: $0) }, then: .done)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkData(let remaining):
                return take(remaining, from: &buffer, rest: { .chunkData(remaining: $0) }, then: .chunkDataEnd)
            case .chunkSize:
                guard let size = try readChunkSize(&buffer) else { return nil }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkDataEnd:
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                if first == UInt8(ascii: "\n") {
                    buffer.moveReaderIndex(forwardBy: 1)
                } else {
                    guard buffer.readableBytes >= 2 else { return nil }
                    guard first == UInt8(ascii: "\r"), buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) == UInt8(ascii: "\n") else {
                        throw HTTP1ParseError.malformed("no line end after chunk data")
                    }
                    buffer.moveReaderIndex(forwardBy: 2)
                }
                state = .chunkSize
            case .trailers:
                guard let (fields, length) = try HTTP1HeadParser.trailers(buffer, limits: limits) else { return nil }
                buffer.moveReaderIndex(forwardBy: length)
                state = .done
                return .end(fields.isEmpty ? nil : ProxyTrailers(fields))
            case .done:
                return .end(nil)
            }
        }
    }

    /// Up to `remaining` bytes of what has arrived (nil if nothing has); the state after them is
    /// `rest` of what remains, or `then` when they were the last.
    private mutating func take(_ remaining: Int, from buffer: inout ByteBuffer, rest: (Int) -> State, then last: State) -> Event? {
        guard buffer.readableBytes > 0 else { return nil }
        let count = min(remaining, buffer.readableBytes)
        state = count == remaining ? last : rest(remaining - count)
        return .body(buffer.readSlice(length: count)!)
    }

    /// The connection ended: the end of a body that runs to the close, else an error.
    mutating func finish() throws -> Event {
        guard state == .untilClose || state == .done else { throw HTTP1ParseError.incomplete }
        state = .done
        return .end(nil)
    }

    /// "1a;ext=x\r\n": the size (hex), extensions ignored (RFC 9112 §7.1.1).
    private func readChunkSize(_ buffer: inout ByteBuffer) throws -> Int? {
        let found = buffer.withUnsafeReadableBytes { raw -> Int? in
            guard !raw.isEmpty else { return nil }
            let searched = min(raw.count, limits.maxLine)
            guard let newline = memchr(raw.baseAddress!, Int32(UInt8(ascii: "\n")), searched) else { return -1 }
            return raw.baseAddress!.distance(to: UnsafeRawPointer(newline))
        }
        guard let newline = found else { return nil }
        guard newline >= 0 else {
            if buffer.readableBytes >= limits.maxLine { throw HTTP1ParseError.malformed("chunk size line too long") }
            return nil
        }
        let line = buffer.readSlice(length: newline + 1)!
        var size = 0, digits = 0
        for byte in line.readableBytesView {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                guard digits > 0 else { throw HTTP1ParseError.malformed("invalid chunk size") }
                return size
            default:
                throw HTTP1ParseError.malformed("invalid chunk size")
            }
            digits += 1
            guard digits <= 15 else { throw HTTP1ParseError.malformed("chunk size too large") }
            size = size * 16 + value
        }
        throw HTTP1ParseError.malformed("invalid chunk size")
    }
}
