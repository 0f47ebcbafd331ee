import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay on loopback in front of a server, which a test cuts off the two ways a server
/// goes away:
/// - `freeze()`: like a machine that died or whose network namespace was deleted. Open
///   connections stay open and carry nothing any more (no FIN, no RST), and new connections
///   are accepted and never answered, so only a timeout can tell.
/// - `close()`: like a server that stopped: the listener and every connection close, and new
///   connections are refused.
final class TCPRelay: Sendable {
    let host: String
    let port: Int
    private let listener: any Channel
    private let state: RelayState

    private init(host: String, port: Int, listener: any Channel, state: RelayState) {
        self.host = host
        self.port = port
        self.listener = listener
        self.state = state
    }

    /// `https://host:port` of the relay.
    var url: String { "https://\(host):\(port)" }

    /// A relay listening on `host` (any free port) to 127.0.0.1:`targetPort`.
    static func start(host: String = "127.0.0.1", to targetPort: Int) async throws -> TCPRelay {
        let state = RelayState()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                state.track(inbound)
                // Frozen: accepted by the kernel and by us, and never answered.
                guard !state.isFrozen else { return inbound.eventLoop.makeSucceededVoidFuture() }
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMapThrowing { outbound in
                        state.track(outbound)
                        try inbound.pipeline.syncOperations.addHandler(RelayHandler(partner: outbound, state: state))
                        try outbound.pipeline.syncOperations.addHandler(RelayHandler(partner: inbound, state: state))
                    }
            }
            .bind(host: host, port: 0).get()
        return TCPRelay(host: host, port: listener.localAddress?.port ?? 0, listener: listener, state: state)
    }

    /// From now on nothing passes and nothing closes (a dead machine).
    func freeze() {
        state.freeze()
    }

    /// Stops listening and closes every connection (a stopped server).
    func close() async {
        try? await listener.close()
        for channel in state.channels() {
            try? await channel.close()
        }
    }
}

/// What the relay's connections share.
private final class RelayState: Sendable {
    private struct State {
        var frozen = false
        var channels: [ObjectIdentifier: any Channel] = [:]
    }

    private let state = Mutex(State())

    var isFrozen: Bool { state.withLock { $0.frozen } }

    func freeze() {
        state.withLock { $0.frozen = true }
    }

    func track(_ channel: any Channel) {
        state.withLock { $0.channels[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { _ in
            self.state.withLock { _ = $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    func channels() -> [any Channel] {
        state.withLock { Array($0.channels.values) }
    }
}

/// Copies what one side reads to the other side, until frozen.
private final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let partner: any Channel
    private let state: RelayState

    init(partner: any Channel, state: RelayState) {
        self.partner = partner
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !state.isFrozen else { return }
        partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A dead machine tells nobody that a connection ended.
        if !state.isFrozen { partner.close(promise: nil) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
