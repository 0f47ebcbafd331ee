import NIOCore

/// A part of a message as the proxy passes it on: like NIO's `HTTPPart`, with the fields kept as
/// bytes. Parts go from the readers to the handlers by method calls (no NIOAny since 2026-12-05);
/// every case is still at most 24 bytes (the head boxed, the trailers a class), so a part is cheap
/// to queue and pass, and the hot paths hand heads on without a part (`HTTP1MessageWriter.writeHead`).
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
