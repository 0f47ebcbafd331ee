import Foundation
import Glibc
import NIOCore

/// The HTTP and HTTPS listeners served by `DataPathLoop` threads, one per core (like nginx's
/// worker_processes auto), each with its own SO_REUSEPORT socket on every address.
final class DataPathServer: Sendable {
    private let loops: [DataPathLoop]
    /// The bound addresses (the port the kernel picked for port 0).
    let httpAddresses: [SocketAddress]
    let httpsAddresses: [SocketAddress]

    private init(loops: [DataPathLoop], httpAddresses: [SocketAddress], httpsAddresses: [SocketAddress]) {
        self.loops = loops
        self.httpAddresses = httpAddresses
        self.httpsAddresses = httpsAddresses
    }

    /// Binds every listener once per thread and starts the threads; a listener that cannot bind
    /// closes the others and throws, naming it.
    static func start(http: [IngressProxyConfig.Listener], https: [IngressProxyConfig.Listener], threads: Int, shared: ProxyShared,
                      adopt: @escaping @Sendable (Int32, ByteBuffer, DataPathHandoff) -> Void) throws -> DataPathServer {
        // A write to a socket the peer reset raises SIGPIPE, which ends the process. NIO ignores it
        // when it makes its first socket; the loops write (and BoringSSL writes for them) before
        // NIO may have made any, so they ignore it themselves (nginx does the same at start).
        signal(SIGPIPE, SIG_IGN)
        var plain = [[Int32]](repeating: [], count: threads)
        var tls = [[Int32]](repeating: [], count: threads)
        var httpAddresses: [SocketAddress] = []
        var httpsAddresses: [SocketAddress] = []
        do {
            httpAddresses = try bind(http, label: "HTTP", threads: threads, into: &plain)
            httpsAddresses = try bind(https, label: "HTTPS", threads: threads, into: &tls)
        } catch {
            for fd in (plain + tls).joined() { close(fd) }
            throw error
        }
        var loops: [DataPathLoop] = []
        for index in 0..<threads {
            let loop: DataPathLoop
            do {
                loop = try DataPathLoop(listeners: plain[index], tlsListeners: tls[index],
                                        httpPort: httpAddresses.first?.port ?? 80, httpsPort: httpsAddresses.first?.port ?? 443,
                                        shared: shared, adopt: adopt)
            } catch {
                // The loops already running close their own listeners as they stop.
                for started in loops { started.quiesce() }
                for fd in (plain[index...] + tls[index...]).joined() { close(fd) }
                throw error
            }
            let thread = Thread {
                // Named from the thread itself: Foundation on Linux names the OS thread only then
                // (the name shows in `top -H` and in profiles).
                Thread.current.name = "ingress-http-\(index)"
                loop.run()
            }
            thread.start()
            loops.append(loop)
        }
        return DataPathServer(loops: loops, httpAddresses: httpAddresses, httpsAddresses: httpsAddresses)
    }

    /// One listening socket per thread on each address (`perLoop[thread]`), and the addresses bound.
    private static func bind(_ listeners: [IngressProxyConfig.Listener], label: String, threads: Int,
                             into perLoop: inout [[Int32]]) throws -> [SocketAddress] {
        var addresses: [SocketAddress] = []
        for listener in listeners {
            var address: SocketAddress
            do {
                address = try SocketAddress.makeAddressResolvingHost(listener.host, port: listener.port)
            } catch {
                throw IngressProxyError("listen on \(listener.host):\(listener.port) (\(label)): \(error)")
            }
            for index in 0..<threads {
                let fd = try DataPathSocket.listen(address, label: label)
                perLoop[index].append(fd)
                // The first socket fixes the port (port 0: the kernel's pick) for the others.
                if index == 0, let bound = DataPathSocket.localAddress(fd) { address = bound }
            }
            addresses.append(address)
        }
        return addresses
    }

    /// Client connections the loops hold (not those handed to NIO).
    var connectionCount: Int { loops.reduce(0) { $0 + $1.counters.withLockedValue { $0.clients } } }

    /// TLS handshakes done on the loops, and TLS connections they relayed to NIO, since start.
    var tlsCounts: (handshakes: Int, relays: Int) {
        loops.reduce((0, 0)) { total, loop in
            let counts = loop.counters.withLockedValue { ($0.handshakes, $0.relays) }
            return (total.0 + counts.0, total.1 + counts.1)
        }
    }

    var backendConnectionsOpened: Int { loops.reduce(0) { $0 + $1.counters.withLockedValue { $0.backendsOpened } } }

    /// Stops accepting; each connection closes once its response is done (idle ones at once).
    func quiesce() {
        for loop in loops { loop.quiesce() }
    }

    /// Waits for the loops to end (after `quiesce`); at `deadline` what is left is closed.
    /// Returns at once when they have ended already (a second shutdown).
    func waitUntilStopped(deadline: NIODeadline) async {
        for loop in loops {
            while !loop.finished.withLockedValue({ $0 }) {
                if NIODeadline.now() >= deadline { for loop in loops { loop.stop() } }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}
