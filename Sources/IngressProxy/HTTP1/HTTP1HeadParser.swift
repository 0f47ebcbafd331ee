import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// Parses HTTP/1 message heads (RFC 9112 §2-5) from bytes, strictly where leniency lets requests be
/// smuggled (whitespace before a colon, obsolete line folding, control characters, conflicting
/// lengths are refused, as llhttp does) and leniently where it costs nothing (a bare LF ends a line,
/// empty lines before a request line are skipped, RFC 9112 §2.2).
enum HTTP1HeadParser {
    /// The request head at the reader index of `buffer`, nil if it has not all arrived.
    static func request(_ buffer: ByteBuffer, limits: HTTP1Limits) throws -> ParsedHead<(HTTPMethod, String, HTTPVersion)>? {
        try parse(buffer, limits: limits, skipEmptyLines: true) { line in
            guard let firstSpace = line.firstIndex(of: UInt8(ascii: " ")) else { throw HTTP1ParseError.malformed("no request target") }
            let method = UnsafeRawBufferPointer(rebasing: line[line.startIndex..<firstSpace])
            guard !method.isEmpty, method.allSatisfy(isTokenByte) else { throw HTTP1ParseError.malformed("invalid method") }
            let rest = line[(firstSpace + 1)...]
            guard let secondSpace = rest.firstIndex(of: UInt8(ascii: " ")) else { throw HTTP1ParseError.malformed("no HTTP version") }
            let target = rest[rest.startIndex..<secondSpace]
            guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
                throw HTTP1ParseError.malformed("invalid request target")
            }
            let version = try parseVersion(UnsafeRawBufferPointer(rebasing: rest[(secondSpace + 1)...]))
            return (parseMethod(method), String(decoding: target, as: UTF8.self), version)
        }
    }

    /// The response head at the reader index of `buffer`, nil if it has not all arrived.
    static func response(_ buffer: ByteBuffer, limits: HTTP1Limits) throws -> ParsedHead<(HTTPVersion, HTTPResponseStatus)>? {
        try parse(buffer, limits: limits, skipEmptyLines: false) { line in
            // "HTTP/1.1 200 OK"; the reason phrase may be empty and its space missing.
            guard line.count >= 12, line[line.startIndex + 8] == UInt8(ascii: " ") else {
                throw HTTP1ParseError.malformed("invalid status line")
            }
            let version = try parseVersion(UnsafeRawBufferPointer(rebasing: line[line.startIndex..<line.startIndex + 8]))
            var code = 0
            for byte in line[(line.startIndex + 9)..<(line.startIndex + 12)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw HTTP1ParseError.malformed("invalid status code") }
                code = code * 10 + Int(byte - UInt8(ascii: "0"))
            }
            guard code >= 100 else { throw HTTP1ParseError.malformed("invalid status code") }
            let rest = line[(line.startIndex + 12)...]
            guard rest.isEmpty || rest.first == UInt8(ascii: " ") else { throw HTTP1ParseError.malformed("invalid status line") }
            var status = HTTPResponseStatus(statusCode: code)
            if case .custom = status, rest.count > 1 {
                // A code NIO does not know keeps the backend's reason phrase.
                status = HTTPResponseStatus(statusCode: code, reasonPhrase: String(decoding: rest.dropFirst(), as: UTF8.self))
            }
            return (version, status)
        }
    }

    /// Field lines up to an empty line (a chunked body's trailer section), nil if not all arrived.
    static func trailers(_ buffer: ByteBuffer, limits: HTTP1Limits) throws -> (fields: HeaderFields, length: Int)? {
        try buffer.withUnsafeReadableBytes { raw -> (HeaderFields, Int)? in
            guard let (fields, _, end) = try parseFields(raw, from: 0, limits: limits) else { return nil }
            return (HeaderFields(parsed: buffer.getSlice(at: buffer.readerIndex, length: end) ?? buffer, fields: fields), end)
        }
    }

    private static func parse<StartLine>(_ buffer: ByteBuffer, limits: HTTP1Limits, skipEmptyLines: Bool,
                                         startLine: (Slice<UnsafeRawBufferPointer>) throws -> StartLine) throws -> ParsedHead<StartLine>? {
        try buffer.withUnsafeReadableBytes { raw -> ParsedHead<StartLine>? in
            var position = 0
            if skipEmptyLines {
                while position < raw.count, raw[position] == UInt8(ascii: "\r") || raw[position] == UInt8(ascii: "\n") {
                    position += 1
                    guard position <= 16 else { throw HTTP1ParseError.malformed("empty lines before the request line") }
                }
            }
            guard let (lineEnd, next) = try nextLine(raw, from: position, limits: limits) else { return nil }
            let start = try startLine(raw[position..<lineEnd])
            guard let (fields, framing, end) = try parseFields(raw, from: next, limits: limits) else { return nil }
            let slice = buffer.getSlice(at: buffer.readerIndex + next, length: end - next) ?? buffer
            return ParsedHead(startLine: start, fields: HeaderFields(parsed: slice, fields: fields), framing: framing, length: end)
        }
    }

    /// The end of the line starting at `start` (before its CRLF or LF) and where the next begins;
    /// nil if its end has not arrived.
    private static func nextLine(_ raw: UnsafeRawBufferPointer, from start: Int, limits: HTTP1Limits) throws -> (Int, Int)? {
        guard start < raw.count else { return nil }
        let searched = min(raw.count - start, limits.maxLine + 2)
        guard let newline = memchr(raw.baseAddress! + start, Int32(UInt8(ascii: "\n")), searched) else {
            if raw.count - start > limits.maxLine + 1 || raw.count > limits.maxHead { throw HTTP1ParseError.headTooLarge }
            return nil
        }
        let index = raw.baseAddress!.distance(to: UnsafeRawPointer(newline))
        let end = index > start && raw[index - 1] == UInt8(ascii: "\r") ? index - 1 : index
        guard end - start <= limits.maxLine, index < limits.maxHead else { throw HTTP1ParseError.headTooLarge }
        return (end, index + 1)
    }

    /// Field lines from `start` to the empty line that ends them: their offsets (relative to
    /// `start`), the framing they declare, and the offset just after the empty line.
    private static func parseFields(_ raw: UnsafeRawBufferPointer, from start: Int, limits: HTTP1Limits) throws
        -> ([HeaderFields.Field], MessageFraming, Int)? {
        var fields: [HeaderFields.Field] = []
        fields.reserveCapacity(12)
        var framing = MessageFraming()
        var position = start
        while true {
            guard let (lineEnd, next) = try nextLine(raw, from: position, limits: limits) else { return nil }
            if lineEnd == position { return (fields, framing, next) }
            let first = raw[position]
            if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                throw HTTP1ParseError.malformed("obsolete line folding")
            }
            var colon = position
            while colon < lineEnd, raw[colon] != UInt8(ascii: ":") {
                guard isTokenByte(raw[colon]) else { throw HTTP1ParseError.malformed("invalid header name") }
                colon += 1
            }
            guard colon < lineEnd, colon > position else { throw HTTP1ParseError.malformed("a header line without a name and colon") }
            var valueStart = colon + 1, valueEnd = lineEnd
            while valueStart < valueEnd, raw[valueStart] == UInt8(ascii: " ") || raw[valueStart] == UInt8(ascii: "\t") { valueStart += 1 }
            while valueEnd > valueStart, raw[valueEnd - 1] == UInt8(ascii: " ") || raw[valueEnd - 1] == UInt8(ascii: "\t") { valueEnd -= 1 }
            for index in valueStart..<valueEnd {
                let byte = raw[index]
                guard byte >= 0x20 || byte == UInt8(ascii: "\t"), byte != 0x7F else {
                    throw HTTP1ParseError.malformed("a control character in a header value")
                }
            }
            let name = UnsafeRawBufferPointer(rebasing: raw[position..<colon])
            let value = UnsafeRawBufferPointer(rebasing: raw[valueStart..<valueEnd])
            try note(name: name, value: value, in: &framing)
            fields.append(HeaderFields.Field(nameStart: Int32(position - start), nameLength: Int32(colon - position),
                                             valueStart: Int32(valueStart - start), valueLength: Int32(valueEnd - valueStart)))
            position = next
        }
    }

    /// Records what a field says about framing: Content-Length (every value the same number, RFC
    /// 9110 §8.6), Transfer-Encoding (its last coding), Connection: upgrade, Upgrade.
    private static func note(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, in framing: inout MessageFraming) throws {
        switch name.count {
        case 14 where HeaderFields.equalsIgnoringCase(name, "content-length"):
            // "5, 5" is one length said twice; an empty item ("5,,5", ",5", "") is not a length.
            var items = 0
            try HeaderFields.forEachItem(value) { digits in
                items += 1
                guard digits.count <= 18, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                    throw HTTP1ParseError.malformed("invalid content-length")
                }
                let length = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                if let known = framing.contentLength, known != length { throw HTTP1ParseError.malformed("conflicting content-length") }
                framing.contentLength = length
            }
            guard items == value.lazy.filter({ $0 == UInt8(ascii: ",") }).count + 1 else {
                throw HTTP1ParseError.malformed("invalid content-length")
            }
        case 17 where HeaderFields.equalsIgnoringCase(name, "transfer-encoding"):
            framing.hasTransferEncoding = true
            // Only the last coding counts; each field's last item replaces the one before.
            framing.chunked = false
            HeaderFields.forEachItem(value) { framing.chunked = HeaderFields.equalsIgnoringCase($0, "chunked") }
        case 10 where HeaderFields.equalsIgnoringCase(name, "connection"):
            HeaderFields.forEachItem(value) { token in
                if HeaderFields.equalsIgnoringCase(token, "upgrade") { framing.connectionUpgrade = true }
                if HeaderFields.equalsIgnoringCase(token, "close") { framing.connectionClose = true }
                if HeaderFields.equalsIgnoringCase(token, "keep-alive") { framing.connectionKeepAlive = true }
            }
        case 7 where HeaderFields.equalsIgnoringCase(name, "upgrade"):
            framing.hasUpgradeField = true
        default:
            break
        }
    }

    private static func parseVersion(_ bytes: UnsafeRawBufferPointer) throws -> HTTPVersion {
        // Only HTTP/1.0 and HTTP/1.1: "PRI * HTTP/2.0" (h2c's preface) and others are refused.
        guard bytes.count == 8, HeaderFields.hasPrefixIgnoringCase(bytes, "http/1."), bytes[0] == UInt8(ascii: "H") else {
            throw HTTP1ParseError.malformed("unsupported HTTP version")
        }
        switch bytes[7] {
        case UInt8(ascii: "1"): return .http1_1
        case UInt8(ascii: "0"): return .http1_0
        default: throw HTTP1ParseError.malformed("unsupported HTTP version")
        }
    }

    private static func parseMethod(_ bytes: UnsafeRawBufferPointer) -> HTTPMethod {
        if bytes.count == 3, bytes[0] == UInt8(ascii: "G"), bytes[1] == UInt8(ascii: "E"), bytes[2] == UInt8(ascii: "T") {
            return .GET
        }
        return HTTPMethod(rawValue: String(decoding: bytes, as: UTF8.self))
    }

    /// tchar of RFC 9110 §5.6.2.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
