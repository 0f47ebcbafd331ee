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

extension ProxyRequestHead: HTTP1WritableHead {
    func writeStartLine(to buffer: inout ByteBuffer) {
        buffer.writeString(method.rawValue)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(uri)
        buffer.writeStaticString(" ")
        writeVersion(version, to: &buffer)
        buffer.writeStaticString("\r\n")
    }
}

extension ProxyResponseHead: HTTP1WritableHead {
    func writeStartLine(to buffer: inout ByteBuffer) {
        writeVersion(version, to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        let code = status.code
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 100 % 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code % 10))
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
    }
}

private func writeVersion(_ version: HTTPVersion, to buffer: inout ByteBuffer) {
    if version.major == 1, version.minor == 1 {
        buffer.writeStaticString("HTTP/1.1")
    } else if version.major == 1, version.minor == 0 {
        buffer.writeStaticString("HTTP/1.0")
    } else {
        buffer.writeString("HTTP/\(version.major).\(version.minor)")
    }
}
