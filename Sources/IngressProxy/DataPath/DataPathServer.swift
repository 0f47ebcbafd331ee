import Foundation
import Glibc
import NIOCore

/// The plain-HTTP listeners served by `DataPathLoop` threads, one per core (like nginx's
/// worker_processes auto), each with its own SO_REUSEPORT socket on every HTTP address.
final class DataPathServer: Sendable {
    private let loops: [DataPathLoop]
    /// The bound addresses (the port the kernel picked for port 0).
    let addresses: [SocketAddress]

    private init(loops: [DataPathLoop], addresses: [SocketAddress]) {
        self.loops = loops
        self.addresses = addresses
    }

    /// Binds every listener once per thread and starts the threads; a listener that cannot bind
    /// closes the others and throws, naming it.
    static func start(listeners: [IngressProxyConfig.Listener], threads: Int, shared: ProxyShared,
                      adopt: @escaping @Sendable (Int32, ByteBuffer) -> Void) throws -> DataPathServer {
        var perLoop = [[Int32]](repeating: [], count: threads)
        var addresses: [SocketAddress] = []
        do {
            for listener in listeners {
                var address: SocketAddress
                do {
                    address = try SocketAddress.makeAddressResolvingHost(listener.host, port: listener.port)
                } catch {
                    throw IngressProxyError("listen on \(listener.host):\(listener.port) (HTTP): \(error)")
                }
                for index in 0..<threads {
                    let fd = try DataPathSocket.listen(address)
                    perLoop[index].append(fd)
                    // The first socket fixes the port (port 0: the kernel's pick) for the others.
                    if index == 0, let bound = DataPathSocket.localAddress(fd) { address = bound }
                }
                addresses.append(address)
            }
        } catch {
            for fd in perLoop.joined() { close(fd) }
            throw error
        }
        var loops: [DataPathLoop] = []
        for index in 0..<threads {
            let loop: DataPathLoop
            do {
                loop = try DataPathLoop(listeners: perLoop[index], localPort: addresses.first?.port ?? 80, shared: shared, adopt: adopt)
            } catch {
                // The loops already running close their own listeners as they stop.
                for started in loops { started.quiesce() }
                for fd in perLoop[index...].joined() { close(fd) }
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
        return DataPathServer(loops: loops, addresses: addresses)
    }

    /// Client connections the loops hold (not those handed to NIO).
    var connectionCount: Int { loops.reduce(0) { $0 + $1.counters.withLockedValue { $0.clients } } }

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
