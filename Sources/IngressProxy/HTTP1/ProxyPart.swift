import NIOCore

/// A part of a message as the proxy passes it on: like NIO's `HTTPPart`, with the fields kept as
/// bytes. Every case is at most 24 bytes (the head boxed, the trailers a class), so NIOAny carries a
/// part inline; a larger value would be boxed on every channel read and write.
enum ProxyPart<Head: Equatable & Sendable>: Equatable, Sendable {
    indirect case head(Head)
    case body(ByteBuffer)
    case end(ProxyTrailers?)
}

/// The trailer section of a chunked body.
final class ProxyTrailers: Equatable, Sendable {
    let fields: HeaderFields

    init(_ fields: HeaderFields) {
        self.fields = fields
    }

    static func == (lhs: ProxyTrailers, rhs: ProxyTrailers) -> Bool { lhs.fields == rhs.fields }
}

typealias ProxyRequestPart = ProxyPart<ProxyRequestHead>
typealias ProxyResponsePart = ProxyPart<ProxyResponseHead>
