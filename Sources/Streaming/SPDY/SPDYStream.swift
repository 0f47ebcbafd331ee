import NIOCore
import Synchronization

/// One stream of a SPDY session, opened by the client (SYN_STREAM) and accepted or reset by
/// the server. Its inbound data is queued up to a limit: past it the session's read loop
/// waits for the stream's reader, so a peer sends no faster than the stream is consumed (SPDY
/// flow control is not used: moby/spdystream neither sends nor honours WINDOW_UPDATE).
public final class SPDYStream: Sendable {
    public let id: UInt32
    /// Its headers, names lowercase, in order.
    public let headers: [(name: String, value: String)]
    let session: SPDYSession

    private let inbox = ByteQueue(limit: 256 * 1024)
    private let finSent = Atomic<Bool>(false)

    init(id: UInt32, headers: [(name: String, value: String)], session: SPDYSession) {
        self.id = id
        self.headers = headers
        self.session = session
    }

    /// The first value of header `name` (case-insensitive), as Go's `Header.Get`.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    // MARK: - Inbound

    /// Queues data from the peer; waits while the queue is over its limit.
    func deliver(_ bytes: ByteBuffer) async { await inbox.deliver(bytes) }

    /// No more data from the peer (FIN, reset, or the connection ended).
    func endInbound() { inbox.end() }

    /// The next data the peer sent, or nil once it has sent all (FIN) or the stream is gone.
    public func read() async -> ByteBuffer? { await inbox.read() }

    /// Throws away whatever the peer sends on this stream from now on (kubectl writes nothing
    /// the server reads on some streams, and an unread queue would stop the session).
    public func discardInput() { inbox.discard() }

    // MARK: - Outbound

    /// Sends data; waits while the client does not read.
    public func write(_ bytes: ByteBuffer) async throws {
        guard !finSent.load(ordering: .relaxed) else { throw SPDYProtocolError("write on stream \(id) after its end") }
        try await session.send(.data(streamID: id, fin: false, payload: bytes))
    }

    /// Half-closes the stream (an empty data frame with FIN), once.
    public func close() async {
        guard !finSent.exchange(true, ordering: .relaxed) else { return }
        try? await session.send(.data(streamID: id, fin: true, payload: ByteBuffer()))
    }

    /// Ends the stream both ways at once (RST_STREAM).
    public func reset(status: UInt32 = SPDYFrame.Status.cancel) async {
        finSent.store(true, ordering: .relaxed)
        endInbound()
        try? await session.send(.rstStream(streamID: id, status: status))
    }
}
