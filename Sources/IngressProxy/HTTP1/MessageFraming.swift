import NIOHTTP1

/// What the fields of a head say about its body and connection, read while parsing them.
struct MessageFraming: Sendable {
    var contentLength: Int?
    /// A Transfer-Encoding field is present.
    var hasTransferEncoding = false
    /// The last transfer coding is "chunked" (RFC 9112 §6.3).
    var chunked = false
    /// The tokens Connection lists that matter here.
    var connectionUpgrade = false
    var connectionClose = false
    var connectionKeepAlive = false
    /// An Upgrade field is present.
    var hasUpgradeField = false

    /// Whether the connection stays open after the message: HTTP/1.1 unless "Connection: close",
    /// HTTP/1.0 only with "Connection: keep-alive" (RFC 9112 §9.3).
    func keepAlive(_ version: HTTPVersion) -> Bool {
        version == .http1_1 ? !connectionClose : connectionKeepAlive && !connectionClose
    }

    /// Whether a request asks for a protocol upgrade: HTTP/1.1, "Connection: upgrade" and an
    /// Upgrade field, as WebSocket's handshake sends (RFC 9110 §7.8).
    func upgrade(_ version: HTTPVersion) -> Bool {
        version == .http1_1 && connectionUpgrade && hasUpgradeField
    }
}

/// A head found at the start of a buffer.
struct ParsedHead<StartLine> {
    var startLine: StartLine
    var fields: HeaderFields
    var framing: MessageFraming
    /// Bytes the head takes, its empty last line included.
    var length: Int
}
