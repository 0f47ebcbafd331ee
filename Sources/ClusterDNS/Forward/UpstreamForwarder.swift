import CShims
import Glibc
import Synchronization

/// Sends queries the zone and the cache cannot answer to the upstream resolvers and answers
/// the clients (CoreDNS's `forward` plugin role), on a thread of its own driving every
/// exchange with epoll. Attempts go round the upstreams; a timeout, an ICMP refusal, a
/// SERVFAIL/REFUSED or an unreadable reply moves to the next; a truncated reply is asked
/// again over TCP; when every attempt failed the client gets SERVFAIL. Good answers enter the
/// cache. Replies that do not match our id and question are ignored, so a spoofed datagram
/// can neither answer a client nor poison the cache.
final class UpstreamForwarder: Sendable {
    let upstreams: [SocketAddress]
    let config: UpstreamConfig
    let resolver: ResolverConfig
    let cache: ResponseCache?
    private let epoll: Int32
    private let wakeup: Int32
    private let inbox = Mutex<[ForwardRequest]>([])
    private let running = Atomic<Bool>(true)
    private let inFlightCount = Atomic<Int>(0)
    private let statistics = Mutex<Statistics>(Statistics())

    /// Counters for tests and diagnostics.
    public struct Statistics: Sendable {
        public var sent = 0
        public var answered = 0
        public var failed = 0
        public var ignoredReplies = 0
        public var tcpRetries = 0
        public var refused = 0
    }

    init(upstreams: [SocketAddress], config: UpstreamConfig, resolver: ResolverConfig, cache: ResponseCache?) throws {
        self.upstreams = upstreams
        self.config = config
        self.resolver = resolver
        self.cache = cache
        epoll = sl_epoll_create()
        guard epoll >= 0 else { throw DNSServerError.system("epoll_create for the DNS forwarder") }
        wakeup = sl_eventfd_create()
        guard wakeup >= 0 else {
            close(epoll)
            throw DNSServerError.system("eventfd for the DNS forwarder")
        }
        guard sl_epoll_add(epoll, wakeup, 0, 1, 0) == 0 else {
            close(epoll)
            close(wakeup)
            throw DNSServerError.system("epoll_ctl for the DNS forwarder")
        }
    }

    var stats: Statistics { statistics.withLock { $0 } }

    /// Queues a query (any thread).
    func submit(_ request: ForwardRequest) {
        inbox.withLock { $0.append(request) }
        sl_eventfd_signal(wakeup)
    }

    func stop() {
        running.store(false, ordering: .releasing)
        sl_eventfd_signal(wakeup)
    }

    /// The loop; runs until `stop`. `netns` (an fd) puts the thread, and so every upstream
    /// socket, in that network namespace.
    func run(netns: Int32?) {
        if let netns, sl_setns(netns, SL_CLONE_NEWNET) != 0 { return }
        var exchanges: [UInt64: UpstreamExchange] = [:]
        var nextToken: UInt64 = 1
        // A dead first upstream would cost every query a timeout: start where the last
        // answer came from (CoreDNS's forward plugin health-checks its upstreams instead).
        var preferred = 0
        let table = CompressionTable()
        var data = [UInt64](repeating: 0, count: 64)
        var flags = [UInt32](repeating: 0, count: 64)
        defer {
            for exchange in exchanges.values { exchange.closeSocket() }
            close(epoll)
            close(wakeup)
        }
        while running.load(ordering: .acquiring) {
            let now = Monotonic.now()
            let nearest = exchanges.values.map(\.deadline).min()
            let timeout = nearest.map { $0 > now ? Int32(min(1000, ($0 - now) / 1_000_000 + 1)) : 0 } ?? 1000
            let count = Int(sl_epoll_wait(epoll, &data, &flags, 64, timeout))
            for i in 0..<max(0, count) {
                if data[i] == 0 {
                    sl_eventfd_drain(wakeup)
                    let requests = inbox.withLock { queue -> [ForwardRequest] in
                        defer { queue.removeAll(keepingCapacity: true) }
                        return queue
                    }
                    for request in requests {
                        if exchanges.count >= config.maxInFlight {
                            statistics.withLock { $0.refused += 1 }
                            request.deliver(reply(request, answer: nil, rcode: .refused, table: table))
                            continue
                        }
                        let exchange = UpstreamExchange(request: request, token: nextToken)
                        exchange.firstUpstream = preferred
                        nextToken += 1
                        exchanges[exchange.token] = exchange
                        if !begin(exchange) { finishFailed(exchange, &exchanges, table: table) }
                    }
                    continue
                }
                guard let exchange = exchanges[data[i]] else { continue }
                step(exchange, flags: flags[i], &exchanges, table: table)
                if exchanges[exchange.token] == nil && exchange.answered { preferred = exchange.upstreamIndex }
            }
            let after = Monotonic.now()
            for exchange in exchanges.values where exchange.deadline <= after {
                retry(exchange, &exchanges, table: table)
            }
            inFlightCount.store(exchanges.count, ordering: .relaxed)
        }
    }

    var inFlight: Int { inFlightCount.load(ordering: .relaxed) }

    // MARK: - Attempts

    /// Starts the current attempt over UDP; false when no attempt could be started at all.
    private func begin(_ exchange: UpstreamExchange) -> Bool {
        while exchange.attempt < config.maxAttempts {
            exchange.upstreamIndex = (exchange.firstUpstream + exchange.attempt) % upstreams.count
            let upstream = upstreams[exchange.upstreamIndex]
            exchange.upstream = upstream
            exchange.phase = .udp
            exchange.deadline = Monotonic.now() + UInt64(config.attemptTimeoutMs) * 1_000_000
            let fd = socket(upstream.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                                | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd >= 0 {
                exchange.fd = fd
                let query = exchange.encodeQuery(payloadSize: UInt16(resolver.maxUDPPayload))
                let connected = upstream.withSockaddr { connect(fd, $0, $1) } == 0
                let sent = connected && query.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } == query.count
                if sent && sl_epoll_add(epoll, fd, exchange.token, 1, 0) == 0 {
                    statistics.withLock { $0.sent += 1 }
                    return true
                }
                exchange.closeSocket()
            }
            exchange.attempt += 1
        }
        return false
    }

    private func retry(_ exchange: UpstreamExchange, _ exchanges: inout [UInt64: UpstreamExchange],
                       table: CompressionTable) {
        exchange.closeSocket()
        exchange.attempt += 1
        if !begin(exchange) { finishFailed(exchange, &exchanges, table: table) }
    }

    private func finishFailed(_ exchange: UpstreamExchange, _ exchanges: inout [UInt64: UpstreamExchange],
                              table: CompressionTable) {
        exchange.closeSocket()
        exchanges[exchange.token] = nil
        statistics.withLock { $0.failed += 1 }
        exchange.request.deliver(reply(exchange.request, answer: nil, rcode: .serverFailure, table: table))
    }

    private func step(_ exchange: UpstreamExchange, flags: UInt32, _ exchanges: inout [UInt64: UpstreamExchange],
                      table: CompressionTable) {
        switch exchange.phase {
        case .udp:
            readUDP(exchange, &exchanges, table: table)
        case .tcpConnecting, .tcpWriting:
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(exchange.fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0, flags & 4 == 0 || flags & 2 != 0 else { return retry(exchange, &exchanges, table: table) }
            exchange.phase = .tcpWriting
            let n = exchange.outgoing[exchange.written...].withUnsafeBytes { send(exchange.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN { return }
                return retry(exchange, &exchanges, table: table)
            }
            exchange.written += n
            if exchange.written == exchange.outgoing.count {
                exchange.phase = .tcpReading
                sl_epoll_modify(epoll, exchange.fd, exchange.token, 1, 0)
            }
        case .tcpReading:
            readTCP(exchange, &exchanges, table: table)
        }
    }

    private func readUDP(_ exchange: UpstreamExchange, _ exchanges: inout [UInt64: UpstreamExchange],
                         table: CompressionTable) {
        var buffer = [UInt8](repeating: 0, count: 65535)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(exchange.fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                // ECONNREFUSED: the ICMP port-unreachable of a stopped upstream; try the next.
                return retry(exchange, &exchanges, table: table)
            }
            guard let message = try? DNSMessage.parse(Array(buffer[0..<n])), exchange.matches(message) else {
                statistics.withLock { $0.ignoredReplies += 1 }
                continue
            }
            if message.isTruncated { return switchToTCP(exchange, &exchanges, table: table) }
            return complete(exchange, message, &exchanges, table: table)
        }
    }

    private func switchToTCP(_ exchange: UpstreamExchange, _ exchanges: inout [UInt64: UpstreamExchange],
                             table: CompressionTable) {
        exchange.closeSocket()
        guard let upstream = exchange.upstream else { return retry(exchange, &exchanges, table: table) }
        statistics.withLock { $0.tcpRetries += 1 }
        let fd = socket(upstream.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                            | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return retry(exchange, &exchanges, table: table) }
        exchange.fd = fd
        let query = exchange.encodeQuery(payloadSize: UInt16(resolver.maxUDPPayload))
        exchange.outgoing = [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
        exchange.written = 0
        exchange.incoming = []
        exchange.phase = .tcpConnecting
        exchange.deadline = Monotonic.now() + UInt64(config.attemptTimeoutMs) * 1_000_000
        let rc = upstream.withSockaddr { connect(fd, $0, $1) }
        guard rc == 0 || errno == EINPROGRESS, sl_epoll_add(epoll, fd, exchange.token, 0, 1) == 0 else {
            return retry(exchange, &exchanges, table: table)
        }
    }

    private func readTCP(_ exchange: UpstreamExchange, _ exchanges: inout [UInt64: UpstreamExchange],
                         table: CompressionTable) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(exchange.fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                return retry(exchange, &exchanges, table: table)
            }
            if n == 0 { return retry(exchange, &exchanges, table: table) }
            exchange.incoming += buffer[0..<n]
            guard exchange.incoming.count >= 2 else { continue }
            let length = Int(exchange.incoming[0]) << 8 | Int(exchange.incoming[1])
            guard exchange.incoming.count >= 2 + length else { continue }
            guard let message = try? DNSMessage.parse(Array(exchange.incoming[2..<(2 + length)])),
                  exchange.matches(message) else {
                statistics.withLock { $0.ignoredReplies += 1 }
                return retry(exchange, &exchanges, table: table)
            }
            return complete(exchange, message, &exchanges, table: table)
        }
    }

    /// A matching reply: failures of the upstream move on; anything else answers the client.
    private func complete(_ exchange: UpstreamExchange, _ message: DNSMessage,
                          _ exchanges: inout [UInt64: UpstreamExchange], table: CompressionTable) {
        let rcode = message.rcode
        if rcode == .serverFailure || rcode == .refused || rcode == .notImplemented || rcode == .formatError {
            exchange.lastRcode = rcode
            return retry(exchange, &exchanges, table: table)
        }
        exchange.closeSocket()
        exchanges[exchange.token] = nil
        exchange.answered = true
        let request = exchange.request
        let lifetime = cache?.lifetime(rcode: rcode, answers: message.answers, authorities: message.authorities,
                                       type: request.type)
        let answer = ForwardedAnswer(name: request.upstreamName, type: request.type, recordClass: request.recordClass,
                                     rcode: rcode, answers: message.answers, authorities: message.authorities,
                                     additionals: message.additionals, received: Monotonic.now(),
                                     lifetime: lifetime ?? UInt32.max)
        if let lifetime, lifetime > 0, let cache { cache.insert(answer, now: answer.received) }
        statistics.withLock { $0.answered += 1 }
        request.deliver(reply(request, answer: answer, rcode: rcode, table: table))
    }

    private func reply(_ request: ForwardRequest, answer: ForwardedAnswer?, rcode: ResponseCode,
                       table: CompressionTable) -> [UInt8] {
        ReplyWriting.forwarded(request, answer: answer, rcode: rcode, age: 0,
                               recursionAvailable: resolver.recursionAvailable,
                               maxUDPPayload: resolver.maxUDPPayload, table: table)
    }
}
