import NIOCore
import Synchronization

/// An exec or attach carried by the WebSocket channel protocols, as kubelet serves it
/// (pkg/kubelet/cri/streaming/remotecommand/websocket.go) plus v5's channel close: stdin on
/// channel 0, stdout 1, stderr 2, the final status on 3, resizes on 4.
public final class WebSocketRemoteCommand: RemoteCommandStreams {
    public let connection: ChannelConnection
    public let options: RemoteCommandOptions
    private let resizes = Mutex(TerminalSizeDecoder())
    private let resizeFailed = Atomic<Bool>(false)

    public init(connection: ChannelConnection, options: RemoteCommandOptions) {
        self.connection = connection
        self.options = options
    }

    /// kubelet's first message: an empty one on the lowest channel it writes, so the client
    /// knows the session is up. Not on v5: kubectl 1.30+ starts reading before it has made its
    /// streams and logs "Unknown stream id 1, discarding message" for it (a race in client-go's
    /// websocket.go); it never sees one from a real cluster, whose API server speaks SPDY to
    /// the kubelet and copies no empty write through its stream translator.
    public func start() async throws {
        guard connection.protocolName != ChannelProtocol.v5 else { return }
        let channel = options.stdout ? ChannelProtocol.stdout : options.stderr ? ChannelProtocol.stderr : ChannelProtocol.error
        try await connection.write(channel: channel, ByteBuffer())
    }

    public func write(_ output: RemoteCommandOutput, _ bytes: ByteBuffer) async throws {
        let channel = output == .stdout ? ChannelProtocol.stdout : ChannelProtocol.stderr
        guard output == .stdout ? options.stdout : options.stderr else { return }
        try await connection.write(channel: channel, bytes)
    }

    /// Nothing is sent: client-go's WebSocket executor reads a server's channel close (`255,
    /// n`) as a message for an unknown stream and logs it; the end of the session, after the
    /// status, ends every channel.
    public func finish(_ output: RemoteCommandOutput) async {}

    /// The status on the error channel (JSON for v4 and v5, the failure's text before), then a
    /// normal close of the WebSocket, which the client reads as the end of every channel.
    public func finish(status: RemoteCommandStatus) async {
        let json = ChannelProtocol.writesStatusJSON(connection.protocolName)
        let bytes = json ? status.json : status.text
        if json || !bytes.isEmpty {
            try? await connection.write(channel: ChannelProtocol.error, ByteBuffer(bytes: bytes))
        }
        await connection.socket.close(code: WebSocketCloseCode.normal)
    }

    public func readInput(_ handler: @Sendable (RemoteCommandInput) async throws -> Void) async throws {
        try await connection.read(channels: 5) { event in
            switch event {
            case .data(ChannelProtocol.stdin, let bytes):
                if options.stdin { try await handler(.stdin(bytes)) }
            case .closed(ChannelProtocol.stdin):
                if options.stdin { try await handler(.stdinClosed) }
            case .data(ChannelProtocol.resize, let bytes):
                // kubelet stops reading resizes at the first bad one; the session goes on.
                guard options.tty, !resizeFailed.load(ordering: .relaxed) else { return }
                let sizes: [RemoteTerminalSize]
                do {
                    sizes = try resizes.withLock { try $0.feed(bytes) }
                } catch {
                    resizeFailed.store(true, ordering: .relaxed)
                    return
                }
                for size in sizes { try await handler(.resize(size)) }
            default:
                // Channels the client does not write (wsstream ignores their data).
                break
            }
        }
    }
}
