import NIOCore
import NIOHTTP1

/// An HTTP/1.1 request asking to switch protocols (`Connection: Upgrade`, `Upgrade: websocket`
/// or `Upgrade: SPDY/3.1`), as the server received it.
public struct UpgradeRequest: Sendable {
    public let head: HTTPRequestHead
    /// The protocol this decision is asked for (one of the `Upgrade` header's, lowercased).
    public let upgradeProtocol: String
    public let remoteAddress: SocketAddress?

    public init(head: HTTPRequestHead, upgradeProtocol: String, remoteAddress: SocketAddress?) {
        self.head = head
        self.upgradeProtocol = upgradeProtocol
        self.remoteAddress = remoteAddress
    }

    /// The path, without the query.
    public var path: String {
        let uri = head.uri
        return uri.firstIndex(of: "?").map { String(uri[..<$0]) } ?? uri
    }

    /// The query, without `?`; nil when there is none.
    public var query: String? {
        let uri = head.uri
        return uri.firstIndex(of: "?").map { String(uri[uri.index(after: $0)...]) }
    }

    /// Every value of a header, comma-separated lists split (as Go's header helpers read
    /// `Sec-WebSocket-Protocol` and `X-Stream-Protocol-Version`).
    public func headerValues(_ name: String) -> [String] {
        head.headers[name].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// An HTTP answer given instead of switching protocols (an authorization failure, a pod that
/// is not there): written as it is, then the connection is closed.
public struct UpgradeRefusal: Error, Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Extra headers (a `Warning`, ...).
    public var headers: [(String, String)]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    public init(status: Int, text: String) {
        self.init(status: status, body: Array(text.utf8))
    }

    public static func == (a: UpgradeRefusal, b: UpgradeRefusal) -> Bool {
        a.status == b.status && a.contentType == b.contentType && a.body == b.body
            && a.headers.map { $0.0 + ":" + $0.1 } == b.headers.map { $0.0 + ":" + $0.1 }
    }
}

/// The connection after `101 Switching Protocols`: raw bytes both ways (TLS already removed).
/// Writes wait while the peer does not read (the channel's back-pressure), so a client that
/// never reads stops its producer instead of growing a buffer.
public struct UpgradedConnection: Sendable {
    public let inbound: NIOAsyncChannelInboundStream<ByteBuffer>
    public let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    public let channel: any Channel

    public init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
                channel: any Channel) {
        self.inbound = inbound
        self.outbound = outbound
        self.channel = channel
    }

    public var allocator: ByteBufferAllocator { channel.allocator }
}

/// What a server does with an upgrade request.
public enum UpgradeDecision: Sendable {
    /// Not an upgrade this server serves: the request goes to the ordinary HTTP responder.
    case pass
    /// Answer this instead (before any protocol switch), then close the connection.
    case refuse(UpgradeRefusal)
    /// Switch: `101` with these headers besides `Connection` and `Upgrade`; then `run` owns the
    /// connection until it returns (the connection is closed after).
    case accept(headers: [(String, String)], run: @Sendable (UpgradedConnection) async throws -> Void)
}

/// Decides about an upgrade request: authenticates and authorizes it, checks what it
/// addresses, negotiates the subprotocol. Called on a task of the server's, once per request.
public typealias UpgradeHandler = @Sendable (UpgradeRequest) async -> UpgradeDecision
