import NIOCore
import NIOHTTP1

/// A request head as the proxy handles it: method, target and version parsed, the fields kept as
/// bytes (`HeaderFields`).
struct ProxyRequestHead: Equatable, Sendable {
    var method: HTTPMethod
    var uri: String
    var version: HTTPVersion
    var fields: HeaderFields
    /// Whether the client keeps the connection open after this exchange (`MessageFraming.keepAlive`).
    var isKeepAlive: Bool
    /// Whether the request asks for a protocol upgrade (`MessageFraming.upgrade`; never on HTTP/2).
    var isUpgrade: Bool

    /// NIO's head of an HTTP/2 stream, as the proxy handles it.
    init(_ head: HTTPRequestHead) {
        self.init(method: head.method, uri: head.uri, version: head.version, fields: HeaderFields(head.headers),
                  isKeepAlive: head.isKeepAlive)
    }

    init(method: HTTPMethod, uri: String, version: HTTPVersion, fields: HeaderFields, isKeepAlive: Bool = true,
         isUpgrade: Bool = false) {
        self.method = method
        self.uri = uri
        self.version = version
        self.fields = fields
        self.isKeepAlive = isKeepAlive
        self.isUpgrade = isUpgrade
    }
}

/// A response head as the proxy handles it.
struct ProxyResponseHead: Equatable, Sendable {
    var version: HTTPVersion
    var status: HTTPResponseStatus
    var fields: HeaderFields
    /// Whether the backend keeps the connection open after this response (`MessageFraming.keepAlive`).
    var isKeepAlive = true

    /// NIO's head, for an HTTP/2 stream's codec.
    var httpResponseHead: HTTPResponseHead {
        HTTPResponseHead(version: version, status: status, headers: fields.httpHeaders)
    }
}

/// A head the HTTP/1 encoder writes: its start line, then its fields.
protocol HTTP1WritableHead {
    var fields: HeaderFields { get }
    func writeStartLine(to buffer: inout ByteBuffer)
}

// The start lines are written with one ByteBuffer write each (see HeaderFields.add).

extension ProxyRequestHead: HTTP1WritableHead {
    func writeStartLine(to buffer: inout ByteBuffer) {
        var method = method.rawValue
        var uri = uri
        _ = method.withUTF8 { method in
            uri.withUTF8 { uri in
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: method.count + uri.count + 12) { out in
                    var line = StartLineWriter(out)
                    line.append(UnsafeRawBufferPointer(method))
                    line.append(UInt8(ascii: " "))
                    line.append(UnsafeRawBufferPointer(uri))
                    line.append(UInt8(ascii: " "))
                    line.appendVersion(version)
                    line.append(UInt8(ascii: "\r"))
                    line.append(UInt8(ascii: "\n"))
                    return line.count
                }
            }
        }
    }
}

extension ProxyResponseHead: HTTP1WritableHead {
    func writeStartLine(to buffer: inout ByteBuffer) {
        var reason = status.reasonPhrase
        _ = reason.withUTF8 { reason in
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: reason.count + 15) { out in
                var line = StartLineWriter(out)
                line.appendVersion(version)
                line.append(UInt8(ascii: " "))
                let code = status.code
                line.append(UInt8(ascii: "0") + UInt8(code / 100 % 10))
                line.append(UInt8(ascii: "0") + UInt8(code / 10 % 10))
                line.append(UInt8(ascii: "0") + UInt8(code % 10))
                line.append(UInt8(ascii: " "))
                line.append(UnsafeRawBufferPointer(reason))
                line.append(UInt8(ascii: "\r"))
                line.append(UInt8(ascii: "\n"))
                return line.count
            }
        }
    }
}

/// Appends bytes to memory known to be large enough (the callers reserve it).
private struct StartLineWriter {
    let out: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ out: UnsafeMutableRawBufferPointer) {
        self.out = out
    }

    mutating func append(_ byte: UInt8) {
        out[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        UnsafeMutableRawBufferPointer(rebasing: out[count..<count + bytes.count]).copyMemory(from: bytes)
        count += bytes.count
    }

    /// "HTTP/1.1" or "HTTP/1.0" (the only versions the proxy speaks; its parser refuses others).
    mutating func appendVersion(_ version: HTTPVersion) {
        let prefix: StaticString = "HTTP/1."
        append(UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
        append(version.minor == 0 ? UInt8(ascii: "0") : UInt8(ascii: "1"))
    }
}
