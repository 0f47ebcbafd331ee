import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The agent's ingress proxy: listens on the configured HTTP and HTTPS addresses and serves the
/// current route table. `update` swaps the table without touching the listeners; requests in
/// flight finish on the backend they chose (graceful reload).
///
/// The listeners belong to the epoll data path (`DataPathServer`), which serves HTTP/1 GET and
/// HEAD itself; every other connection or request moves to NIO's pipelines on the event loop
/// group it is given (the agent passes `MultiThreadedEventLoopGroup.singleton`): bodies, upgrades,
/// HTTP/2, anything unusual (`adopt`).
public final class IngressProxyServer: Sendable {
    private let shared: ProxyShared
    private let dataPath: DataPathServer
    private let connections: NIOLockedValueBox<[ObjectIdentifier: Channel]>
    /// The bound HTTP and HTTPS addresses (with the ports the kernel picked for port 0).
    public var httpAddresses: [SocketAddress] { dataPath.httpAddresses }
    public var httpsAddresses: [SocketAddress] { dataPath.httpsAddresses }

    private init(shared: ProxyShared, dataPath: DataPathServer, connections: NIOLockedValueBox<[ObjectIdentifier: Channel]>) {
        self.shared = shared
        self.dataPath = dataPath
        self.connections = connections
    }

    /// Makes the default certificate and binds every listener; a listener that cannot bind (port
    /// taken, no permission) closes the others and throws, naming it.
    public static func start(config: IngressProxyConfig, group: EventLoopGroup,
                             initialTable: IngressRouteTable = .empty,
                             logger: Logger = Logger(label: "swiftlet.ingress")) async throws -> IngressProxyServer {
        let defaultCertificate: LoadedCertificate
        do {
            defaultCertificate = try ServerTLS.defaultCertificate()
        } catch {
            throw IngressProxyError("make the default TLS certificate: \(error)")
        }
        let shared = ProxyShared(config: config, group: group, defaultCertificate: defaultCertificate, logger: logger)
        shared.replace(initialTable)
        let connections = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])
        let dataPath = try DataPathServer.start(http: config.http, https: config.https, threads: System.coreCount, shared: shared) { fd, bytes, handoff in
            adopt(fd, bytes: bytes, handoff: handoff, group: group, shared: shared, connections: connections)
        }
        for (addresses, scheme) in [(dataPath.httpAddresses, "http"), (dataPath.httpsAddresses, "https")] {
            for address in addresses {
                logger.info("ingress proxy listening", metadata: ["address": "\(address)", "protocol": "\(scheme)"])
            }
        }
        return IngressProxyServer(shared: shared, dataPath: dataPath, connections: connections)
    }

    /// A connection the epoll data path gives to NIO, with the bytes it read of the request under
    /// way: reads wait until those bytes are in, so later ones cannot overtake them.
    private static func adopt(_ fd: Int32, bytes: ByteBuffer, handoff: DataPathHandoff, group: EventLoopGroup, shared: ProxyShared,
                              connections: NIOLockedValueBox<[ObjectIdentifier: Channel]>) {
        var bootstrap = ClientBootstrap(group: group).channelOption(.autoRead, value: false)
        if case .relay = handoff {} else {
            // Not for the relay's socketpair: TCP_NODELAY on a Unix socket fails the channel.
            bootstrap = bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1)
        }
        bootstrap
            .channelInitializer { channel in
                track(channel, in: connections)
                return channel.eventLoop.makeCompletedFuture {
                    switch handoff {
                    case .http: try ProxyPipelines.configureHTTP1(channel, shared: shared, scheme: "http")
                    case .tls: try ProxyPipelines.configureTLS(channel, shared: shared)
                    case .relay(let origin): try ProxyPipelines.configureHTTP1(channel, shared: shared, scheme: "https", origin: origin)
                    }
                }
            }
            .withConnectedSocket(fd)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    if bytes.readableBytes > 0 {
                        channel.pipeline.fireChannelRead(bytes)
                        channel.pipeline.fireChannelReadComplete()
                    }
                    channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in channel.close(promise: nil) }
                case .failure(let error):
                    shared.logger.debug("ingress: a connection could not move to NIO", metadata: ["error": "\(error)"])
                    close(fd)
                }
            }
    }

    private static func track(_ channel: Channel, in connections: NIOLockedValueBox<[ObjectIdentifier: Channel]>) {
        let id = ObjectIdentifier(channel)
        connections.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in
            _ = connections.withLockedValue { $0.removeValue(forKey: id) }
        }
    }

    /// Serves `table` from the next request on: no listener restarts, no connection is closed,
    /// a request in flight keeps its backend.
    public func update(_ table: IngressRouteTable) {
        shared.replace(table)
    }

    /// The table being served.
    public var table: IngressRouteTable { shared.table }

    /// Open client connections.
    public var connectionCount: Int { connections.withLockedValue { $0.count } + dataPath.connectionCount }

    /// TLS handshakes the epoll data path did itself, and TLS connections it relayed to NIO
    /// afterwards (for tests of which path served).
    public var dataPathTLSCounts: (handshakes: Int, relays: Int) { dataPath.tlsCounts }

    /// Backend connections opened since start, over every event loop (for tests of keep-alive).
    public func backendConnectionsOpened() async -> Int {
        var total = dataPath.backendConnectionsOpened
        for pool in shared.allPools {
            total += (try? await pool.eventLoop.submit { pool.opened }.get()) ?? 0
        }
        return total
    }

    /// Stops listening, asks open connections to finish (HTTP/1 closes after the response in
    /// progress, HTTP/2 sends GOAWAY), closes what is left after `gracePeriod`, and closes the
    /// idle backend connections.
    public func shutdown(gracePeriod: TimeAmount = .seconds(10)) async {
        dataPath.quiesce()
        for channel in connections.withLockedValue({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let deadline = NIODeadline.now() + gracePeriod
        await dataPath.waitUntilStopped(deadline: deadline)
        while connectionCount > 0, NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for channel in connections.withLockedValue({ Array($0.values) }) {
            try? await channel.close().get()
        }
        for pool in shared.allPools {
            try? await pool.eventLoop.submit { pool.closeAll() }.get()
        }
    }
}

/// A failure to start the proxy, saying what and where.
public struct IngressProxyError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
