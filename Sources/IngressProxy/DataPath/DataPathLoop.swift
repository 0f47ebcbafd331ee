import CNIOBoringSSL
import CShims
import Glibc
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// One thread of the HTTP/1 data path: its own epoll set, its own listening sockets (SO_REUSEPORT,
/// HTTP and HTTPS) and its own keep-alive backend pool, like an nginx worker. It serves the common
/// request itself, a bodyless GET or HEAD with a route, reading and writing the sockets directly
/// (through BoringSSL for HTTPS, `DataPathLoop+TLS`);
/// every other request (a body, an upgrade, no route, a malformed head) and every connection it
/// cannot finish cleanly goes to NIO's `ProxyHandler` with the bytes read so far (`adopt`), which
/// serves the rest of that connection. NIO's channel machinery was half of the proxy's user time
/// per request (docs/benchmarks.md, "Where the rest of the user time is").
final class DataPathLoop: @unchecked Sendable {
    enum Kind: UInt64 { case listener = 0, client = 1, backend = 2, wakeup = 3, tlsListener = 4, relay = 5 }

    let shared: ProxyShared
    let epoll: Int32
    private let wakeup: Int32
    private var listeners: [Int32]
    private var tlsListeners: [Int32]
    let adopt: @Sendable (Int32, ByteBuffer, DataPathHandoff) -> Void
    var clients: [DataPathClient?] = []
    /// TLS clients relayed to NIO, by the loop's end of their socketpair.
    var relays: [Int32: DataPathClient] = [:]
    var backends: [DataPathBackend?] = []
    var idle: [BackendEndpoint: DataPathIdleList] = [:]
    var scratch = ByteBufferAllocator().buffer(capacity: 16384)
    /// What BoringSSL reads the loop's TLS connections from.
    let tlsInput = DataPathTLSInput()
    /// The forwarded heads' fields, built here one head after another without allocating.
    var requestFields = HeaderFields(capacity: 2048, count: 32)
    var responseFields = HeaderFields(capacity: 2048, count: 32)
    let allocator = ByteBufferAllocator()
    let limits: HTTP1Limits
    private let httpPort: String
    private let httpsPort: String
    /// Set from other threads: 1 stop accepting and finish what is under way, 2 close everything now.
    private let stopLevel = NIOLockedValueBox(0)
    var draining = false
    /// Counts read by other threads (tests, shutdown).
    let counters = NIOLockedValueBox((clients: 0, backendsOpened: 0, handshakes: 0, relays: 0))
    /// Set when `run` has returned (a shutdown may wait for it more than once).
    let finished = NIOLockedValueBox(false)

    init(listeners: [Int32], tlsListeners: [Int32], httpPort: Int, httpsPort: Int, shared: ProxyShared,
         adopt: @escaping @Sendable (Int32, ByteBuffer, DataPathHandoff) -> Void) throws {
        self.shared = shared
        self.listeners = listeners
        self.tlsListeners = tlsListeners
        self.adopt = adopt
        self.httpPort = String(httpPort)
        self.httpsPort = String(httpsPort)
        limits = HTTP1Limits(maxLine: shared.config.maxHeaderLineBytes, maxHead: shared.config.maxHeaderBytes)
        epoll = sl_epoll_create()
        wakeup = sl_eventfd_create()
        guard epoll >= 0, wakeup >= 0 else { throw IngressProxyError("epoll for the HTTP data path: \(String(cString: strerror(errno)))") }
        guard sl_epoll_add(epoll, wakeup, Kind.wakeup.rawValue << 32, 1, 0) == 0 else {
            throw IngressProxyError("epoll_ctl (data path wakeup): \(String(cString: strerror(errno)))")
        }
        for fd in listeners where sl_epoll_add(epoll, fd, token(.listener, fd), 1, 0) != 0 {
            throw IngressProxyError("epoll_ctl (HTTP listener): \(String(cString: strerror(errno)))")
        }
        for fd in tlsListeners where sl_epoll_add(epoll, fd, token(.tlsListener, fd), 1, 0) != 0 {
            throw IngressProxyError("epoll_ctl (HTTPS listener): \(String(cString: strerror(errno)))")
        }
    }

    func token(_ kind: Kind, _ fd: Int32) -> UInt64 { kind.rawValue << 32 | UInt64(UInt32(bitPattern: fd)) }

    /// Sets what epoll reports for a connection (`interest`: bit 0 readable, bit 1 writable), with
    /// a system call only when that changes: the common request leaves both sockets as they were,
    /// waiting to be read, and two epoll_ctl calls per request showed in profiles.
    func watch(_ fd: Int32, _ kind: Kind, _ interest: inout UInt8, read: Bool, write: Bool) {
        let wanted: UInt8 = (read ? 1 : 0) | (write ? 2 : 0)
        guard interest != wanted else { return }
        interest = wanted
        sl_epoll_modify(epoll, fd, token(kind, fd), read ? 1 : 0, write ? 1 : 0)
    }

    /// Asks the loop to stop accepting and to close each connection once its response is done;
    /// `run` returns when none is left.
    func quiesce() {
        stopLevel.withLockedValue { $0 = max($0, 1) }
        sl_eventfd_signal(wakeup)
    }

    /// Closes every connection and ends `run` (after a quiesce's grace period).
    func stop() {
        stopLevel.withLockedValue { $0 = 2 }
        sl_eventfd_signal(wakeup)
    }

    var now: UInt64 { NIODeadline.now().uptimeNanoseconds }
    func after(_ timeout: TimeAmount) -> UInt64 { now &+ UInt64(max(timeout.nanoseconds, 0)) }

    // MARK: The loop

    func run() {
        var data = [UInt64](repeating: 0, count: 64)
        var flags = [UInt32](repeating: 0, count: 64)
        var nextScan = after(.milliseconds(250))
        while true {
            let level = stopLevel.withLockedValue { $0 }
            if !draining, level >= 1 { beginDraining() }
            if level == 2 { for case let client? in clients { closeClient(client) } }
            if draining, counters.withLockedValue({ $0.clients }) == 0 { break }
            let count = Int(sl_epoll_wait(epoll, &data, &flags, 64, 250))
            for i in 0..<max(count, 0) {
                let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: data[i]))
                let readable = flags[i] & 1 != 0 || flags[i] & 4 != 0
                let writable = flags[i] & 2 != 0
                // HUP or ERR on a socket nothing is asked of (interest 0: a client whose pipelined
                // bytes wait for a response, a backend paused for a slow client) is a reset or a
                // close both ways; level-triggered, it would come back on every wait.
                let hungUp = flags[i] & 4 != 0
                switch Kind(rawValue: data[i] >> 32) {
                case .listener: accept(fd, tls: false)
                case .tlsListener: accept(fd, tls: true)
                case .client:
                    if hungUp, let client = client(fd), client.interest == 0 {
                        closeClient(client)
                        continue
                    }
                    if writable, let client = client(fd) { clientWritable(client) }
                    if readable, let client = client(fd) { clientReadable(client) }
                case .backend:
                    if hungUp, let backend = backend(fd), backend.interest == 0 {
                        // The response under way cannot be finished.
                        if let client = backend.client { backendFailed(client, backend: backend, status: .badGateway) } else { dropBackend(backend) }
                        continue
                    }
                    if writable, let backend = backend(fd) { backendWritable(backend) }
                    if readable, let backend = backend(fd) { backendReadable(backend) }
                case .relay: relayReady(fd, readable: readable, writable: writable)
                case .wakeup: sl_eventfd_drain(wakeup)
                case nil: break
                }
            }
            if now >= nextScan {
                expireDeadlines()
                nextScan = after(.milliseconds(250))
            }
        }
        for list in idle.values { for backend in list.backends { dropBackend(backend) } }
        idle.removeAll()
        finished.withLockedValue { $0 = true }
    }

    // The eventfd and the epoll set stay open until the loop object goes: a `quiesce` or `stop`
    // after `run` ended must not write into a descriptor number the process has reused.
    deinit {
        close(wakeup)
        close(epoll)
    }

    private func client(_ fd: Int32) -> DataPathClient? { Int(fd) < clients.count ? clients[Int(fd)] : nil }
    private func backend(_ fd: Int32) -> DataPathBackend? { Int(fd) < backends.count ? backends[Int(fd)] : nil }

    private func beginDraining() {
        draining = true
        for fd in listeners + tlsListeners {
            sl_epoll_remove(epoll, fd)
            close(fd)
        }
        listeners = []
        tlsListeners = []
        for case let client? in clients {
            switch client.state {
            case .idle where !client.reader.hasBytes, .hello, .handshaking: closeClient(client)
            default: break
            }
        }
        for case let client? in clients { client.keepAlive = false }
    }

    private func accept(_ listener: Int32, tls: Bool) {
        while true {
            let fd = sl_accept_nonblocking(listener)
            guard fd >= 0 else { return }
            DataPathSocket.setNoDelay(fd)
            let origin = ForwardedHeaders.Origin(clientAddress: DataPathSocket.peerAddress(fd), scheme: tls ? "https" : "http",
                                                 port: tls ? httpsPort : httpPort, isHTTP2: false)
            // For TLS the header timeout covers the handshake as well, as NIO's pipeline has it.
            let client = DataPathClient(fd: fd, limits: limits, origin: origin, tls: tls)
            client.deadline = after(shared.config.clientHeaderTimeout)
            guard sl_epoll_add(epoll, fd, token(.client, fd), 1, 0) == 0 else {
                close(fd)
                continue
            }
            if Int(fd) >= clients.count { clients.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - clients.count + 64)) }
            clients[Int(fd)] = client
            counters.withLockedValue { $0.clients += 1 }
        }
    }

    // MARK: Client side

    func clientReadable(_ client: DataPathClient) {
        switch client.state {
        case .hello: return readHello(client)
        case .handshaking: return continueHandshake(client)
        case .relaying: return relayFromClient(client)
        case .idle, .forwarding: break
        }
        // While a response waits for the socket, or a request is under way, bytes wait in the
        // kernel (a pipelined request is read after the response before it).
        guard client.state == .idle, !client.isWaitingToSend else {
            if client.state == .forwarding { peekHangUp(client) }
            return
        }
        guard readIntoScratch(client) else { return }
        if client.requestBytes.readableBytes == 0 {
            // A request's first bytes: the header timeout runs from here (nginx client_header_timeout).
            client.deadline = after(shared.config.clientHeaderTimeout)
            client.requestBytes = scratch
        } else {
            client.requestBytes.writeImmutableBuffer(scratch)
        }
        client.reader.append(scratch)
        serve(client)
    }

    /// A client that goes away while its request is at the backend: the exchange ends.
    private func peekHangUp(_ client: DataPathClient) {
        var byte: UInt8 = 0
        let n = recv(client.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { closeClient(client) }
        else if n > 0 {
            // Pipelined bytes: stop watching until the response is done.
            watch(client.fd, .client, &client.interest, read: false, write: false)
        }
    }

    /// Whether this loop serves a request itself: a bodyless GET or HEAD of HTTP/1.1 (or 1.0), no
    /// upgrade, no Expect. The rest goes to NIO's handler.
    private func takes(_ head: ProxyRequestHead) -> Bool {
        guard head.method == .GET || head.method == .HEAD, !head.isUpgrade, head.version.major == 1 else { return false }
        let fields = head.fields
        if fields.contains("transfer-encoding") || fields.contains("expect") { return false }
        if let length = fields.first("content-length"), length != "0" { return false }
        return true
    }

    private func serve(_ client: DataPathClient) {
        guard client.state == .idle else { return }
        let part: ProxyRequestPart?
        do {
            part = try client.reader.next()
        } catch {
            // NIO's handler reads the same bytes and answers 400 or 431.
            handOff(client)
            return
        }
        guard let part else { return }
        guard case .head(let head) = part, takes(head) else {
            handOff(client)
            return
        }
        let host = head.fields.first("host")
        guard head.version.minor == 0 || host != nil,
              case .backend(let target) = shared.table.route(host: host.map { Substring($0) }, target: head.uri),
              target.unavailableReason == nil, !target.endpoints.isEmpty else {
            handOff(client)
            return
        }
        // The request has no body: its end is the next part.
        _ = try? client.reader.next()
        // No handoff any more: letting go of the request's bytes leaves the loop's read buffer
        // unshared, so the next read reuses it instead of allocating another.
        client.requestBytes = ByteBuffer()
        client.method = head.method
        client.version = head.version
        client.keepAlive = head.isKeepAlive && !draining
        client.state = .forwarding
        client.target = target
        client.attemptsLeft = target.endpoints.count
        client.nextIndex = target.nextStart()
        requestFields.removeAll()
        _ = ForwardedHeaders.request(head, origin: client.origin, upgrade: false, into: &requestFields)
        client.requestOut.clear()
        client.writer.writeHead(ProxyRequestHead(method: head.method, uri: head.uri, version: .http1_1, fields: requestFields),
                                into: &client.requestOut)
        sendToBackend(client, reuse: true)
    }

    /// The rest of this connection is NIO's: the bytes of the request under way (and any after
    /// it) go with it. A backend connection it held is closed (it may hold half an exchange). A TLS
    /// session cannot move: its plaintext is relayed instead.
    private func handOff(_ client: DataPathClient) {
        if let backend = client.backend {
            client.backend = nil
            dropBackend(backend)
        }
        if client.ssl != nil { return relayToNIO(client) }
        forget(client)
        adopt(client.fd, client.requestBytes, .http)
    }

    func forget(_ client: DataPathClient) {
        guard clients[Int(client.fd)] === client else { return }
        sl_epoll_remove(epoll, client.fd)
        clients[Int(client.fd)] = nil
        counters.withLockedValue { $0.clients -= 1 }
    }

    func closeClient(_ client: DataPathClient) {
        guard clients[Int(client.fd)] === client else { return }
        if let backend = client.backend {
            client.backend = nil
            dropBackend(backend)
        }
        closeRelay(client)
        endTLS(client)
        forget(client)
        close(client.fd)
    }

    private func clientWritable(_ client: DataPathClient) {
        if client.state == .handshaking { return continueHandshake(client) }
        if client.readWantsWrite {
            client.readWantsWrite = false
            watch(client.fd, .client, &client.interest, read: true, write: client.isWaitingToSend)
            clientReadable(client)
            guard clients[Int(client.fd)] === client else { return }
        }
        guard client.isWaitingToSend else { return }
        switch writeClient(client, &client.unsent) {
        case .closed:
            closeClient(client)
            return
        case .done where client.isWaitingToSend:
            // Progress: the send timeout counts from here (nginx's send_timeout is "between two
            // successive write operations").
            client.deadline = after(shared.config.clientSendTimeout)
            return
        case .wouldBlock, .done:
            break
        }
        guard !client.isWaitingToSend else { return }
        if client.state == .relaying { return relayResume(client) }
        watch(client.fd, .client, &client.interest, read: true, write: false)
        if let backend = client.backend, backend.readsPaused {
            backend.readsPaused = false
            backend.deadline = after(shared.config.backendTimeout)
            watch(backend.fd, .backend, &backend.interest, read: true, write: false)
            backendReadable(backend)
        } else if client.state == .idle {
            responseDone(client)
        }
    }

    /// Writes what the response gathered; what the socket does not take waits for it to become
    /// writable, and the backend's reads wait with it (backpressure, nginx's send_timeout runs).
    func flush(_ client: DataPathClient) {
        guard client.output.readableBytes > 0 else { return }
        if client.isWaitingToSend {
            client.unsent.writeImmutableBuffer(client.output)
            client.output.clear()
            return
        }
        swap(&client.unsent, &client.output)
        client.output.clear()
        switch writeClient(client, &client.unsent) {
        case .closed:
            closeClient(client)
        case .wouldBlock, .done:
            if client.isWaitingToSend {
                client.deadline = after(shared.config.clientSendTimeout)
                // A relayed connection keeps reading the client meanwhile: a WebSocket peer may
                // read its echo only once it has sent all of a large message.
                let relayReads = client.state == .relaying && client.toRelay.readableBytes == 0
                watch(client.fd, .client, &client.interest, read: relayReads, write: true)
                if let backend = client.backend, !backend.readsPaused {
                    backend.readsPaused = true
                    watch(backend.fd, .backend, &backend.interest, read: false, write: false)
                }
            }
        }
    }

    /// The response is out: the next request, or the end of the connection.
    func responseDone(_ client: DataPathClient) {
        guard clients[Int(client.fd)] === client, !client.isWaitingToSend else { return }
        if client.closeAfter || !client.keepAlive {
            closeClient(client)
            return
        }
        client.resetRequest()
        client.requestBytes = client.reader.takeRemaining() ?? ByteBuffer()
        if client.requestBytes.readableBytes > 0 { client.reader.append(client.requestBytes) }
        client.deadline = after(client.requestBytes.readableBytes > 0 ? shared.config.clientHeaderTimeout : shared.config.keepAliveTimeout)
        watch(client.fd, .client, &client.interest, read: true, write: false)
        serve(client)
        // Bytes BoringSSL holds itself (part of a record): epoll will not report them.
        if let ssl = client.ssl, client.state == .idle, !client.isWaitingToSend, SSL_has_pending(ssl) == 1 {
            clientReadable(client)
        }
    }

    // MARK: Timeouts

    /// Every 250 ms: clients past their header, keep-alive or send timeout close; a backend past
    /// its timeout answers 504 (or cuts the response under way); idle pooled connections past
    /// theirs close.
    private func expireDeadlines() {
        let now = self.now
        for case let client? in clients where client.deadline <= now {
            switch client.state {
            case .hello, .handshaking, .idle: closeClient(client)
            case .forwarding, .relaying: if client.isWaitingToSend { closeClient(client) }
            }
        }
        for case let backend? in backends where backend.deadline <= now && !backend.readsPaused {
            if let client = backend.client {
                backendFailed(client, backend: backend, status: .gatewayTimeout)
            } else {
                dropBackend(backend)
            }
        }
    }
}
