import CShims
import Glibc
import Synchronization

/// The agent's cluster DNS server: answers the cluster zone from a `ClusterRecordStore`,
/// forwards everything else to the node's resolvers with a cache, over UDP and TCP on the
/// configured addresses. Serving runs on threads of its own (one per UDP worker, one for
/// TCP, one for the forwarder); `start` binds and starts them, `stop` ends and joins them.
public final class DNSServer: Sendable {
    public let config: DNSServerConfig
    public let records: ClusterRecordStore
    public let cache: ResponseCache
    private let state = Mutex<Running?>(nil)

    private struct Running: @unchecked Sendable {
        var udpWorkers: [UDPWorker]
        var tcp: TCPServer
        var forwarder: UpstreamForwarder?
        var threads: [WorkerThread]
        var udpAddresses: [SocketAddress]
        var tcpAddresses: [SocketAddress]
        var upstreams: [SocketAddress]
    }

    public init(config: DNSServerConfig, records: ClusterRecordStore) {
        self.config = config
        self.records = records
        cache = ResponseCache(limits: config.cache)
    }

    /// Binds every listening socket (in the configured network namespace), reads the
    /// upstreams and starts serving. Throws, naming the address, when a bind fails.
    public func start() throws {
        try state.withLock { state in
            guard state == nil else { return }
            var netns: Int32? = nil
            if let path = config.networkNamespace {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw DNSServerError.system("open network namespace \(path)") }
                netns = fd
            }
            defer { if let netns { close(netns) } }
            var opened: [Int32] = []
            var udp: [(Int32, SocketAddress)] = []
            var tcp: [(Int32, SocketAddress)] = []
            do {
                for address in config.listen {
                    var bound = address
                    for worker in 0..<config.udpWorkers {
                        // Workers after the first bind the port the first one got.
                        let fd = try Self.bind(bound, udp: true, reusePort: config.udpWorkers > 1, netns: netns)
                        opened.append(fd)
                        if worker == 0 { bound = try Self.localAddress(fd) }
                        udp.append((fd, bound))
                    }
                    let tcpAddress = address.port == 0 ? bound : address
                    let fd = try Self.bind(tcpAddress, udp: false, reusePort: false, netns: netns)
                    opened.append(fd)
                    tcp.append((fd, try Self.localAddress(fd)))
                }
            } catch {
                for fd in opened { close(fd) }
                throw error
            }
            let udpAddresses = udp.enumerated().filter { $0.offset % config.udpWorkers == 0 }.map(\.element.1)
            let upstreams = (try? config.upstream.resolve(excluding: udpAddresses)) ?? []
            let forwarder = upstreams.isEmpty ? nil
                : try UpstreamForwarder(upstreams: upstreams, config: config.upstream, resolver: config.resolver, cache: cache)
            var threads: [WorkerThread] = []
            var netnsForThreads: Int32? = nil
            if let path = config.networkNamespace { netnsForThreads = open(path, O_RDONLY | O_CLOEXEC) }
            if let forwarder {
                let nsfd = netnsForThreads
                threads.append(try WorkerThread(name: "dns-forward") {
                    forwarder.run(netns: nsfd)
                    if let nsfd { close(nsfd) }
                })
            } else if let nsfd = netnsForThreads {
                close(nsfd)
            }
            var workers: [UDPWorker] = []
            for (fd, _) in udp {
                let worker = try UDPWorker(fd: fd)
                workers.append(worker)
                let store = records, batch = config.batchSize, resolver = config.resolver, cache = cache
                threads.append(try WorkerThread(name: "dns-udp") {
                    // Each thread its own handler: it owns the scratch space it answers with.
                    let handler = QueryHandler(config: resolver, cache: cache, canForward: forwarder != nil)
                    worker.run(store: store, handler: handler, forwarder: forwarder, batchSize: batch)
                })
            }
            let tcpServer = try TCPServer(listeners: tcp.map(\.0), limits: config.tcp)
            let store = records, resolver = config.resolver, cache = cache
            threads.append(try WorkerThread(name: "dns-tcp") {
                let handler = QueryHandler(config: resolver, cache: cache, canForward: forwarder != nil)
                tcpServer.run(store: store, handler: handler, forwarder: forwarder)
            })
            state = Running(udpWorkers: workers, tcp: tcpServer, forwarder: forwarder, threads: threads,
                            udpAddresses: udpAddresses, tcpAddresses: tcp.map(\.1), upstreams: upstreams)
        }
    }

    /// Stops serving and waits for the threads (a few hundred milliseconds at most; call it
    /// from a thread that may block, or through `shutdown()`).
    public func stop() {
        let running = state.withLock { state -> Running? in
            defer { state = nil }
            return state
        }
        guard let running else { return }
        // The forwarder first: it answers through the UDP sockets the workers close.
        running.forwarder?.stop()
        if running.forwarder != nil { running.threads[0].join() }
        running.tcp.stop()
        for worker in running.udpWorkers { worker.stop() }
        for thread in running.threads.dropFirst(running.forwarder != nil ? 1 : 0) { thread.join() }
    }

    /// `stop` without blocking a cooperative thread.
    public func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            do {
                _ = try WorkerThread(name: "dns-stop") {
                    self.stop()
                    continuation.resume()
                }
            } catch {
                stop()
                continuation.resume()
            }
        }
    }

    /// Where UDP is served (with the ports picked for port 0).
    public var udpAddresses: [SocketAddress] { state.withLock { $0?.udpAddresses ?? [] } }
    public var tcpAddresses: [SocketAddress] { state.withLock { $0?.tcpAddresses ?? [] } }
    /// The upstream resolvers in use (empty: everything outside the zone gets SERVFAIL).
    public var upstreams: [SocketAddress] { state.withLock { $0?.upstreams ?? [] } }
    /// Open TCP connections.
    public var openTCPConnections: Int { state.withLock { $0?.tcp.openConnections ?? 0 } }
    /// Forwarder counters.
    var forwarderStatistics: UpstreamForwarder.Statistics? { state.withLock { $0?.forwarder?.stats } }

    // MARK: - Sockets

    private static func bind(_ address: SocketAddress, udp: Bool, reusePort: Bool, netns: Int32?) throws -> Int32 {
        let type = (udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = netns.map { sl_socket_in_netns($0, address.family, type, 0) }
            ?? socket(address.family, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        let what = "\(udp ? "udp" : "tcp") \(address)"
        guard fd >= 0 else { throw DNSServerError.system("socket for \(what)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        if udp {
            // Room for bursts: a 2-core node under load queues many datagrams between batches.
            var size: Int32 = 4 << 20
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if address.family == AF_INET6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        guard address.withSockaddr({ Glibc.bind(fd, $0, $1) }) == 0 else {
            let error = DNSServerError.system("listen \(what): bind")
            close(fd)
            throw error
        }
        if !udp && listen(fd, 128) != 0 {
            let error = DNSServerError.system("listen \(what)")
            close(fd)
            throw error
        }
        return fd
    }

    private static func localAddress(_ fd: Int32) throws -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        } == 0
        guard ok, let address = withUnsafePointer(to: &storage, {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0, length: length) }
        }) else { throw DNSServerError.system("getsockname") }
        return address
    }
}
