import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// What every connection of one server shares: the configuration, the current route table, the
/// backend pools of the event loops and the default certificate.
final class ProxyShared: Sendable {
    let config: IngressProxyConfig
    let logger: Logger
    /// The self-signed certificate for hosts without one of their own.
    let defaultCertificate: LoadedCertificate
    /// The route table in use. Each request reads it once, under a lock held for the read only:
    /// the one shared access on the request path.
    private let routes: NIOLockedValueBox<IngressRouteTable>
    /// One pool per event loop of the group, made at start, read without a lock.
    private let pools: [ObjectIdentifier: BackendConnectionPool]

    init(config: IngressProxyConfig, group: EventLoopGroup, defaultCertificate: LoadedCertificate, logger: Logger) {
        self.config = config
        self.logger = logger
        self.defaultCertificate = defaultCertificate
        self.routes = NIOLockedValueBox(.empty)
        var pools: [ObjectIdentifier: BackendConnectionPool] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = BackendConnectionPool(eventLoop: loop, config: config)
        }
        self.pools = pools
    }

    var defaultTLS: NIOSSLContext { defaultCertificate.context }

    var table: IngressRouteTable { routes.withLockedValue { $0 } }

    func replace(_ table: IngressRouteTable) {
        routes.withLockedValue { $0 = table }
    }

    /// The pool of `loop`; a loop outside the group (none in practice) gets a pool of its own.
    func pool(for loop: EventLoop) -> BackendConnectionPool {
        pools[ObjectIdentifier(loop)] ?? BackendConnectionPool(eventLoop: loop, config: config)
    }

    var allPools: [BackendConnectionPool] { Array(pools.values) }
}
