import NIOCore
import NIOHTTP1

/// A client connection of the epoll data path (`DataPathLoop`).
final class DataPathClient {
    enum State {
        /// TLS: the ClientHello is not read yet (`DataPathLoop+TLS`).
        case hello
        /// TLS: the handshake is under way.
        case handshaking
        /// Between requests, or reading a request's head.
        case idle
        /// The request went to `backend`; its response comes back.
        case forwarding
        /// TLS: NIO serves the rest of the connection; the loop relays its plaintext (`relay`).
        case relaying
    }

    let fd: Int32
    var state = State.idle
    var reader: HTTP1RequestReader
    var writer = HTTP1MessageWriter()
    let origin: ForwardedHeaders.Origin
    /// The bytes read since the first byte of the request under way (given to NIO on a handoff).
    var requestBytes = ByteBuffer()
    /// The request as it goes to the backend (kept for a retry on a new connection; its storage is
    /// reused for the next request).
    var requestOut = ByteBufferAllocator().buffer(capacity: 1024)
    var target: IngressBackendTarget?
    var nextIndex = 0
    var attemptsLeft = 0
    var retriedReused = false
    var backend: DataPathBackend?
    var method = HTTPMethod.GET
    var version = HTTPVersion.http1_1
    var keepAlive = true
    var responseStarted = false
    var bodyless = false
    var closeAfter = false
    var backendKeepAlive = true
    /// Response bytes written since the last flush, and what the socket did not take yet.
    var output = ByteBuffer()
    var unsent = ByteBuffer()
    /// When the current wait ends (header, keep-alive or send timeout), in uptime nanoseconds.
    var deadline: UInt64 = 0
    /// What epoll reports for the socket (`DataPathLoop.watch`): added readable.
    var interest: UInt8 = 1

    // TLS (`DataPathLoop+TLS`).
    /// The ClientHello's bytes while its record is not whole (`DataPathLoop.readHello`).
    var hello = ByteBuffer()
    /// The BoringSSL connection (an `SSL *`) once the handshake starts; nil for plain HTTP.
    var ssl: OpaquePointer?
    /// SSL_read needs the socket writable first (a TLS record of its own to send).
    var readWantsWrite = false
    /// The loop's end of the socketpair to NIO while relaying, its epoll interest, and the client's
    /// bytes it has not taken yet.
    var relay: Int32 = -1
    var relayInterest: UInt8 = 1
    var toRelay = ByteBuffer()

    init(fd: Int32, limits: HTTP1Limits, origin: ForwardedHeaders.Origin, tls: Bool) {
        self.fd = fd
        self.reader = HTTP1RequestReader(limits: limits)
        self.origin = origin
        state = tls ? .hello : .idle
    }

    var isWaitingToSend: Bool { unsent.readableBytes > 0 }

    func resetRequest() {
        // Between requests a kept-alive connection holds no large buffers (a download grows them
        // to a backend read's size); nginx frees its buffers on keep-alive connections too.
        if output.capacity > 8192 { output = ByteBuffer() }
        if unsent.capacity > 8192 { unsent = ByteBuffer() }
        state = .idle
        target = nil
        backend = nil
        retriedReused = false
        responseStarted = false
        bodyless = false
        backendKeepAlive = true
    }
}

/// A backend connection of the epoll data path, pooled per loop between requests.
final class DataPathBackend {
    let fd: Int32
    let endpoint: BackendEndpoint
    var connected: Bool
    var reader = HTTP1ResponseReader()
    var client: DataPathClient?
    /// Request bytes the socket has not taken yet (or all of them while connecting).
    var unsent = ByteBuffer()
    var requests = 0
    var readsPaused = false
    /// Backend timeout while serving, idle timeout in the pool (uptime nanoseconds).
    var deadline: UInt64 = 0

    /// What epoll reports for the socket (`DataPathLoop.watch`): readable, and writable while connecting.
    var interest: UInt8

    init(fd: Int32, endpoint: BackendEndpoint, connected: Bool) {
        self.fd = fd
        self.endpoint = endpoint
        self.connected = connected
        interest = connected ? 1 : 3
    }
}

/// The idle pooled connections of a loop to one endpoint. A class, so that taking one and giving
/// it back change the list in place: an array as the dictionary's value was modified through the
/// dictionary, three allocations per request in profiles.
final class DataPathIdleList {
    var backends: [DataPathBackend] = []
}
