import CShims
import Glibc
import Synchronization

/// DNS over TCP (RFC 7766): two-octet length framing, pipelined queries answered as they are
/// ready (forwarded ones may come back out of order, which §6.2.1.1 allows), bounded: at most
/// `maxConnections` open, a begun message must arrive within the read timeout (slow-loris
/// clients are closed), idle connections close after the idle timeout, and a connection may
/// have only so many forwarded queries waiting. One thread drives everything with epoll.
final class TCPServer: Sendable {
    private let listeners: [Int32]
    private let limits: DNSServerConfig.TCPLimits
    private let epoll: Int32
    private let wakeup: Int32
    private let running = Atomic<Bool>(true)
    /// Replies from the forwarder: (connection token, message).
    private let inbox = Mutex<[(UInt64, [UInt8])]>([])
    private let open = Atomic<Int>(0)

    private final class Connection {
        let fd: Int32
        let token: UInt64
        var input: [UInt8] = []
        var output: [UInt8] = []
        var pending = 0
        var lastActivity: UInt64
        var messageStarted: UInt64 = 0
        var wantsWrite = false
        var closing = false

        init(fd: Int32, token: UInt64, now: UInt64) {
            self.fd = fd
            self.token = token
            lastActivity = now
        }
    }

    init(listeners: [Int32], limits: DNSServerConfig.TCPLimits) throws {
        self.listeners = listeners
        self.limits = limits
        epoll = sl_epoll_create()
        wakeup = sl_eventfd_create()
        guard epoll >= 0, wakeup >= 0 else { throw DNSServerError.system("epoll/eventfd for the DNS TCP server") }
        guard sl_epoll_add(epoll, wakeup, 0, 1, 0) == 0 else { throw DNSServerError.system("epoll_ctl (TCP wakeup)") }
        for (index, fd) in listeners.enumerated() where sl_epoll_add(epoll, fd, UInt64(1 + index), 1, 0) != 0 {
            throw DNSServerError.system("epoll_ctl (TCP listener)")
        }
    }

    /// Open connections (tests check the bound holds).
    var openConnections: Int { open.load(ordering: .relaxed) }

    func stop() {
        running.store(false, ordering: .releasing)
        sl_eventfd_signal(wakeup)
    }

    func run(store: ClusterRecordStore, handler: QueryHandler, forwarder: UpstreamForwarder?) {
        var connections: [UInt64: Connection] = [:]
        var nextToken: UInt64 = 1000
        var data = [UInt64](repeating: 0, count: 64)
        var flags = [UInt32](repeating: 0, count: 64)
        var reply = [UInt8](repeating: 0, count: 65535)
        let readTimeout = UInt64(limits.readTimeoutMs) * 1_000_000
        let idleTimeout = UInt64(limits.idleTimeoutMs) * 1_000_000
        defer {
            for connection in connections.values { close(connection.fd) }
            for fd in listeners { close(fd) }
            close(epoll)
            close(wakeup)
        }
        func drop(_ connection: Connection) {
            sl_epoll_remove(epoll, connection.fd)
            close(connection.fd)
            connections[connection.token] = nil
            open.store(connections.count, ordering: .relaxed)
        }
        func flush(_ connection: Connection) {
            while !connection.output.isEmpty {
                let n = connection.output.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK { break }
                    return drop(connection)
                }
                connection.output.removeFirst(n)
            }
            let wants = !connection.output.isEmpty
            if wants != connection.wantsWrite {
                connection.wantsWrite = wants
                sl_epoll_modify(epoll, connection.fd, connection.token, 1, wants ? 1 : 0)
            }
            if connection.closing && connection.output.isEmpty && connection.pending == 0 { drop(connection) }
        }
        func process(_ connection: Connection, now: UInt64) {
            let snapshot = store.snapshot
            while connection.input.count >= 2, connection.pending < limits.maxPending {
                let length = Int(connection.input[0]) << 8 | Int(connection.input[1])
                guard length > 0 else { return drop(connection) }
                guard connection.input.count >= 2 + length else { break }
                let outcome = connection.input.withUnsafeBytes { input in
                    reply.withUnsafeMutableBytes { out in
                        handler.handle(UnsafeRawBufferPointer(rebasing: input[2..<(2 + length)]), into: out, tcp: true,
                                       snapshot: snapshot)
                    }
                }
                connection.input.removeFirst(2 + length)
                switch outcome {
                case .reply(let n):
                    connection.output += [UInt8(n >> 8), UInt8(n & 0xFF)]
                    connection.output += reply[0..<n]
                case .drop:
                    break
                case .forward(var request):
                    guard let forwarder else { break }
                    connection.pending += 1
                    let token = connection.token
                    request.deliver = { [self] bytes in
                        inbox.withLock { $0.append((token, bytes)) }
                        sl_eventfd_signal(wakeup)
                    }
                    forwarder.submit(request)
                }
            }
            // A message begun but not complete must complete within the read timeout (whole
            // messages held back by `maxPending` are not the client's fault).
            let input = connection.input
            let incomplete = !input.isEmpty && (input.count < 2 || input.count < 2 + (Int(input[0]) << 8 | Int(input[1])))
            connection.messageStarted = incomplete ? (connection.messageStarted == 0 ? now : connection.messageStarted) : 0
            flush(connection)
        }

        while running.load(ordering: .acquiring) {
            let count = Int(sl_epoll_wait(epoll, &data, &flags, 64, 250))
            let now = Monotonic.now()
            for i in 0..<max(0, count) {
                let token = data[i]
                if token == 0 {
                    sl_eventfd_drain(wakeup)
                    let replies = inbox.withLock { queue -> [(UInt64, [UInt8])] in
                        defer { queue.removeAll(keepingCapacity: true) }
                        return queue
                    }
                    for (target, bytes) in replies {
                        guard let connection = connections[target] else { continue }
                        connection.pending -= 1
                        connection.output += [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
                        connection.lastActivity = now
                        process(connection, now: now)
                    }
                    continue
                }
                if token < 1000 {
                    let listener = listeners[Int(token) - 1]
                    while true {
                        let fd = sl_accept_nonblocking(listener)
                        if fd < 0 { break }
                        guard connections.count < limits.maxConnections else {
                            close(fd)
                            continue
                        }
                        let connection = Connection(fd: fd, token: nextToken, now: now)
                        nextToken += 1
                        if sl_epoll_add(epoll, fd, connection.token, 1, 0) != 0 {
                            close(fd)
                            continue
                        }
                        connections[connection.token] = connection
                        open.store(connections.count, ordering: .relaxed)
                    }
                    continue
                }
                guard let connection = connections[token] else { continue }
                if flags[i] & 2 != 0 { flush(connection) }
                guard connections[token] != nil, flags[i] & 1 != 0 || flags[i] & 4 != 0 else { continue }
                var buffer = [UInt8](repeating: 0, count: 16384)
                var closed = false
                // Read what is there, but hold at most one maximal message plus its prefix.
                while connection.input.count < 65537 {
                    let n = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, min($0.count, 65537 - connection.input.count), 0) }
                    if n > 0 {
                        connection.input += buffer[0..<n]
                        connection.lastActivity = now
                        continue
                    }
                    if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { closed = true }
                    break
                }
                process(connection, now: now)
                if closed, connections[token] != nil {
                    connection.closing = true
                    connection.input = []
                    flush(connection)
                }
            }
            // Timeouts: a message started too long ago, or nothing happening for too long.
            for connection in connections.values {
                if connection.messageStarted != 0 && now - connection.messageStarted > readTimeout {
                    drop(connection)
                } else if connection.pending == 0 && connection.output.isEmpty && connection.input.isEmpty
                            && now - connection.lastActivity > idleTimeout {
                    drop(connection)
                }
            }
        }
    }
}
