import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The agent's ingress proxy: listens on the configured HTTP and HTTPS addresses, on the event
/// loop group it is given (the agent passes `MultiThreadedEventLoopGroup.singleton`), and serves
/// the current route table. `update` swaps the table without touching the listeners; requests in
/// flight finish on the backend they chose (graceful reload).
public final class IngressProxyServer: Sendable {
    private let shared: ProxyShared
    private let listeners: [Channel]
    /// The plain-HTTP listeners, served on epoll threads (`DataPathLoop`).
    private let dataPath: DataPathServer?
    private let connections: NIOLockedValueBox<[ObjectIdentifier: Channel]>
    /// The bound HTTP and HTTPS addresses (with the ports the kernel picked for port 0).
    public let httpAddresses: [SocketAddress]
    public let httpsAddresses: [SocketAddress]

    private init(shared: ProxyShared, listeners: [Channel], dataPath: DataPathServer?,
                 connections: NIOLockedValueBox<[ObjectIdentifier: Channel]>,
                 httpAddresses: [SocketAddress], httpsAddresses: [SocketAddress]) {
        self.shared = shared
        self.listeners = listeners
        self.dataPath = dataPath
        self.connections = connections
        self.httpAddresses = httpAddresses
        self.httpsAddresses = httpsAddresses
    }

    /// Makes the default certificate and binds every listener; a listener that cannot bind (port
    /// taken, no permission) closes the others and throws, naming it.
    public static func start(config: IngressProxyConfig, group: EventLoopGroup,
                             initialTable: IngressRouteTable = .empty,
                             logger: Logger = Logger(label: "swiftlet.ingress")) async throws -> IngressProxyServer {
        let defaultTLS: NIOSSLContext
        do {
            defaultTLS = try ServerTLS.defaultContext()
        } catch {
            throw IngressProxyError("make the default TLS certificate: \(error)")
        }
        let shared = ProxyShared(config: config, group: group, defaultTLS: defaultTLS, logger: logger)
        shared.replace(initialTable)
        let connections = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])
        var bound: [Channel] = []
        var http: [SocketAddress] = []
        var https: [SocketAddress] = []
        var dataPath: DataPathServer?
        do {
            if !config.http.isEmpty {
                let server = try DataPathServer.start(listeners: config.http, threads: System.coreCount, shared: shared) { fd, bytes in
                    adopt(fd, bytes: bytes, group: group, shared: shared, connections: connections)
                }
                dataPath = server
                http = server.addresses
                for address in server.addresses {
                    logger.info("ingress proxy listening", metadata: ["address": "\(address)", "protocol": "http"])
                }
            }
            for (listener, isTLS) in config.https.map({ ($0, true) }) {
                let channel: Channel
                do {
                    channel = try await bootstrap(group: group, shared: shared, connections: connections, tls: isTLS)
                        .bind(host: listener.host, port: listener.port).get()
                } catch {
                    throw IngressProxyError("listen on \(listener.host):\(listener.port) (\(isTLS ? "HTTPS" : "HTTP")): \(error)")
                }
                bound.append(channel)
                if let address = channel.localAddress {
                    if isTLS { https.append(address) } else { http.append(address) }
                }
                logger.info("ingress proxy listening", metadata: [
                    "address": "\(channel.localAddress.map { "\($0)" } ?? "\(listener.host):\(listener.port)")",
                    "protocol": "\(isTLS ? "https" : "http")",
                ])
            }
        } catch {
            for channel in bound { try? await channel.close().get() }
            dataPath?.quiesce()
            throw error
        }
        return IngressProxyServer(shared: shared, listeners: bound, dataPath: dataPath, connections: connections,
                                  httpAddresses: http, httpsAddresses: https)
    }

    /// A plain-HTTP connection the epoll data path gives to NIO, with the bytes it read of the
    /// request under way: reads wait until those bytes are in, so later ones cannot overtake them.
    private static func adopt(_ fd: Int32, bytes: ByteBuffer, group: EventLoopGroup, shared: ProxyShared,
                              connections: NIOLockedValueBox<[ObjectIdentifier: Channel]>) {
        ClientBootstrap(group: group)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                track(channel, in: connections)
                return channel.eventLoop.makeCompletedFuture {
                    try ProxyPipelines.configureHTTP1(channel, shared: shared, scheme: "http")
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

    private static func bootstrap(group: EventLoopGroup, shared: ProxyShared,
                                  connections: NIOLockedValueBox<[ObjectIdentifier: Channel]>, tls: Bool) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                track(channel, in: connections)
                return channel.eventLoop.makeCompletedFuture {
                    if tls {
                        try ProxyPipelines.configureTLS(channel, shared: shared)
                    } else {
                        try ProxyPipelines.configureHTTP1(channel, shared: shared, scheme: "http")
                    }
                }
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
    public var connectionCount: Int { connections.withLockedValue { $0.count } + (dataPath?.connectionCount ?? 0) }

    /// Backend connections opened since start, over every event loop (for tests of keep-alive).
    public func backendConnectionsOpened() async -> Int {
        var total = dataPath?.backendConnectionsOpened ?? 0
        for pool in shared.allPools {
            total += (try? await pool.eventLoop.submit { pool.opened }.get()) ?? 0
        }
        return total
    }

    /// Stops listening, asks open connections to finish (HTTP/1 closes after the response in
    /// progress, HTTP/2 sends GOAWAY), closes what is left after `gracePeriod`, and closes the
    /// idle backend connections.
    public func shutdown(gracePeriod: TimeAmount = .seconds(10)) async {
        for channel in listeners { try? await channel.close().get() }
        dataPath?.quiesce()
        for channel in connections.withLockedValue({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let deadline = NIODeadline.now() + gracePeriod
        await dataPath?.waitUntilStopped(deadline: deadline)
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
