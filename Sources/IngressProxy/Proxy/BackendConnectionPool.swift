import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to backends, one pool per event loop: a client connection's requests
/// go to backends over connections of its own event loop, so handing a request over is a method
/// call, never a lock or a thread hop (nginx's per-worker upstream keepalive cache).
/// Touched on its event loop only.
final class BackendConnectionPool: @unchecked Sendable {
    let eventLoop: EventLoop
    private let config: IngressProxyConfig
    /// Idle connections per endpoint, most recently used last (reused first: it is the least
    /// likely to have been closed by the backend's own idle timeout).
    private var idle: [BackendEndpoint: [BackendConnection]] = [:]
    /// Connections opened, for tests and diagnostics.
    private(set) var opened = 0

    init(eventLoop: EventLoop, config: IngressProxyConfig) {
        self.eventLoop = eventLoop
        self.config = config
    }

    /// An idle connection to `endpoint`, if one is open.
    func acquire(_ endpoint: BackendEndpoint) -> BackendConnection? {
        eventLoop.assertInEventLoop()
        // Mutated in place (a copy of the list taken out of the dictionary would be copied again
        // on write: an allocation per request).
        while let connection = idle[endpoint]?.popLast() {
            if connection.isOpen { return connection }
        }
        return nil
    }

    /// Puts a connection whose response ended cleanly back; closes it when the pool is full.
    func release(_ connection: BackendConnection) {
        eventLoop.assertInEventLoop()
        guard connection.isOpen else { return }
        guard (idle[connection.endpoint]?.count ?? 0) < config.maxIdleConnectionsPerEndpoint else {
            connection.detach(idleTimeout: nil)
            connection.close()
            return
        }
        connection.detach(idleTimeout: config.backendIdleTimeout)
        idle[connection.endpoint, default: []].append(connection)
    }

    /// Forgets a connection that closed.
    func remove(_ connection: BackendConnection) {
        guard let index = idle[connection.endpoint]?.firstIndex(where: { $0 === connection }) else { return }
        idle[connection.endpoint]?.remove(at: index)
    }

    /// Opens a new connection to `endpoint` on this event loop; its `BackendConnection` is the
    /// channel's only handler.
    func connect(_ endpoint: BackendEndpoint) -> EventLoopFuture<Channel> {
        eventLoop.assertInEventLoop()
        opened += 1
        let loop = eventLoop
        return ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(config.backendConnectTimeout)
            .channelInitializer { [self] channel in
                loop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(BackendConnection(endpoint: endpoint, pool: self, eventLoop: loop))
                }
            }
            .connect(to: endpoint.address)
    }

    /// Closes every idle connection (server shutdown).
    func closeAll() {
        eventLoop.assertInEventLoop()
        let all = idle.values.flatMap { $0 }
        idle.removeAll()
        for connection in all { connection.close() }
    }

    /// Idle connections per endpoint, for tests.
    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }
}
