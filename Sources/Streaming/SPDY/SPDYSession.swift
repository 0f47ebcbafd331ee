import Logging
import NIOCore
import Synchronization

/// The server side of a SPDY/3.1 session as Kubernetes uses it (k8s.io/apimachinery
/// httpstream/spdy over moby/spdystream): the client opens every stream; the server accepts
/// each with an empty SYN_REPLY or resets it, echoes the client's PINGs (client-go pings every
/// few seconds and gives up without answers), and ignores SETTINGS and WINDOW_UPDATE
/// (spdystream does no flow control either).
public final class SPDYSession: Sendable {
    /// The port-forward protocol kubectl negotiates (`X-Stream-Protocol-Version`).
    public static let portForwardProtocol = "portforward.k8s.io"

    let transport: SPDYTransport
    let logger: Logger
    private let codec: Mutex<SPDYHeaderCodec>
    private let replies = SerialGate()

    struct State {
        var streams: [UInt32: SPDYStream] = [:]
        var lastStreamID: UInt32 = 0
        var goneAway = false
        var goAwaySent = false
    }
    private let state = Mutex(State())

    public init(transport: SPDYTransport, logger: Logger) throws(SPDYProtocolError) {
        self.transport = transport
        self.logger = logger
        codec = Mutex(try SPDYHeaderCodec())
    }

    /// The server's answer to a SPDY upgrade (apimachinery's spdy.ResponseUpgrader with
    /// httpstream.Handshake): the client names the protocols it speaks in
    /// `X-Stream-Protocol-Version`, in its order of preference; the first the server supports
    /// is chosen and echoed. `run` gets the session's transport and that protocol.
    public static func upgrade(_ request: UpgradeRequest, protocols: [String],
                               run: @escaping @Sendable (SPDYTransport, String) async -> Void) -> UpgradeDecision {
        let offered = request.headerValues("X-Stream-Protocol-Version")
        guard !offered.isEmpty else {
            return .refuse(UpgradeRefusal(status: 400, text: "unable to upgrade: X-Stream-Protocol-Version is required"))
        }
        guard let chosen = offered.first(where: { protocols.contains($0) }) else {
            return .refuse(UpgradeRefusal(status: 403, body: Array("unable to upgrade: unable to negotiate protocol: client supports \(offered), server accepts \(protocols)".utf8),
                                          headers: protocols.map { ("X-Accepted-Stream-Protocol-Versions", $0) }))
        }
        return .accept(headers: [("X-Stream-Protocol-Version", chosen)]) { connection in
            await run(.raw(connection), chosen)
        }
    }

    /// Reads frames until the client closes the connection (or breaks the protocol); each new
    /// stream goes to `onStream`, which must `accept` or `reset` it. Streams still open when
    /// the connection ends see the end of their input.
    public func run(onStream: @escaping @Sendable (SPDYStream) async -> Void) async {
        var parser = SPDYFrameParser()
        do {
            try await transport.read { bytes in
                parser.append(bytes)
                while let frame = try parser.next() {
                    try await handle(frame, onStream: onStream)
                }
            }
        } catch let error as SPDYProtocolError {
            logger.debug("SPDY session ended by a protocol error", metadata: ["error": "\(error)"])
            if let last = takeGoAway() { try? await send(.goAway(lastGoodStreamID: last, status: 1)) }
        } catch {
            logger.debug("SPDY session ended", metadata: ["error": "\(error)"])
        }
        let open = state.withLock { state -> [SPDYStream] in
            state.goneAway = true
            defer { state.streams = [:] }
            return Array(state.streams.values)
        }
        for stream in open { stream.endInbound() }
    }

    private func handle(_ frame: SPDYFrame, onStream: @escaping @Sendable (SPDYStream) async -> Void) async throws {
        switch frame {
        case .synStream(let id, _, _, let fin, _, let block):
            // The block is decompressed even for a stream refused below: the zlib state
            // carries over to the next block.
            let headers = try codec.withLock { codec throws(SPDYProtocolError) in try codec.decode(block) }
            enum Verdict { case accept(SPDYStream), refuse(UInt32) }
            let verdict: Verdict = state.withLock { state in
                // spdystream's validateStreamId: client streams are odd and increasing.
                guard !state.goneAway else { return .refuse(SPDYFrame.Status.refusedStream) }
                guard id & 1 == 1, id > state.lastStreamID else { return .refuse(SPDYFrame.Status.protocolError) }
                state.lastStreamID = id
                let stream = SPDYStream(id: id, headers: headers, session: self)
                state.streams[id] = stream
                return .accept(stream)
            }
            switch verdict {
            case .refuse(let status):
                try await send(.rstStream(streamID: id, status: status))
            case .accept(let stream):
                if fin { stream.endInbound() }
                await onStream(stream)
            }
        case .data(let id, let fin, let payload):
            // Data for a stream that is gone is dropped (spdystream does the same).
            guard let stream = state.withLock({ $0.streams[id] }) else { return }
            if payload.readableBytes > 0 { await stream.deliver(payload) }
            if fin { stream.endInbound() }
        case .rstStream(let id, _):
            state.withLock { $0.streams[id] }?.endInbound()
        case .ping(let id):
            // Only the peer's pings (odd ids from a client) are answered.
            if id & 1 == 1 { try await send(.ping(id: id)) }
        case .goAway:
            state.withLock { $0.goneAway = true }
        case .synReply, .headers, .settings, .windowUpdate, .unknown:
            break
        }
    }

    /// Accepts a stream: an empty SYN_REPLY (header blocks are compressed in the order they
    /// go out: one at a time).
    public func accept(_ stream: SPDYStream) async throws {
        try await replies.run {
            let block = try codec.withLock { codec throws(SPDYProtocolError) in try codec.encode([]) }
            try await send(.synReply(streamID: stream.id, fin: false, headerBlock: block))
        }
    }

    /// Sends a frame; waits while the client does not read.
    func send(_ frame: SPDYFrame) async throws {
        var buffer = transport.allocator.buffer(capacity: 64)
        frame.write(into: &buffer)
        try await transport.write(buffer)
    }

    /// Says the session is over (GOAWAY, as spdystream's Close) and ends a tunnel's WebSocket.
    public func goAway() async {
        if let last = takeGoAway() { try? await send(.goAway(lastGoodStreamID: last, status: 0)) }
        await transport.close()
    }

    /// The last stream id for a GOAWAY, the first time only (one GOAWAY per session).
    private func takeGoAway() -> UInt32? {
        state.withLock { state in
            state.goneAway = true
            guard !state.goAwaySent else { return nil }
            state.goAwaySent = true
            return state.lastStreamID
        }
    }

    /// Forgets a stream both sides are done with.
    public func remove(_ stream: SPDYStream) {
        state.withLock { _ = $0.streams.removeValue(forKey: stream.id) }
    }
}

/// Runs async blocks one at a time, in the order they arrive.
actor SerialGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
