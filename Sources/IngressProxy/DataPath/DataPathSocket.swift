import CShims
import Glibc
import NIOCore

/// The few socket calls of the epoll data path (`DataPathLoop`), over Glibc and the epoll, eventfd
/// and accept4 wrappers it shares with the cluster DNS server (CShims/include/sl_event_io.h).
enum DataPathSocket {
    /// What a nonblocking read or write did.
    enum IOResult {
        case done(Int)
        case wouldBlock
        /// End of stream (a read of 0) or an error: the connection is over.
        case closed
    }

    /// A listening TCP socket on `address`, nonblocking, with SO_REUSEPORT so that every loop
    /// thread has one of its own on the same port (the kernel spreads new connections over them).
    static func listen(_ address: SocketAddress, label: String, backlog: Int32 = 1024) throws -> Int32 {
        let family = address.protocol.rawValue
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IngressProxyError("socket(\(address)): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockAddr { pointer, size in bind(fd, pointer, socklen_t(size)) }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw IngressProxyError("listen on \(address) (\(label)): \(message)")
        }
        return fd
    }

    /// The address a socket is bound to (the port the kernel picked for port 0).
    static func localAddress(_ fd: Int32) -> SocketAddress? {
        address(of: fd, getsockname)
    }

    /// The peer's address as text (X-Forwarded-For), "" when unknown.
    static func peerAddress(_ fd: Int32) -> String {
        address(of: fd, getpeername)?.ipAddress ?? ""
    }

    private static func address(of fd: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) } }
        guard rc == 0 else { return nil }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer -> SocketAddress? in
            switch family {
            case AF_INET: return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
            case AF_INET6: return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
            default: return nil
            }
        }
    }

    /// Starts a nonblocking connection to `address`: the socket, and whether it is connected
    /// already (else it becomes writable when it is, or fails). nil when it failed at once.
    static func connect(_ address: SocketAddress) -> (fd: Int32, connected: Bool)? {
        let fd = socket(address.protocol.rawValue, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = address.withSockAddr { pointer, size in Glibc.connect(fd, pointer, socklen_t(size)) }
        if rc == 0 { return (fd, true) }
        if errno == EINPROGRESS { return (fd, false) }
        close(fd)
        return nil
    }

    /// Whether a connection started by `connect` succeeded (SO_ERROR once it is writable).
    static func connectSucceeded(_ fd: Int32) -> Bool {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads what is there into `buffer` (at least 4 KiB of room), at most `limit` bytes.
    static func read(_ fd: Int32, into buffer: inout ByteBuffer, limit: Int = .max) -> IOResult {
        var result = IOResult.wouldBlock
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: min(4096, limit)) { raw in
            while true {
                let n = Glibc.read(fd, raw.baseAddress, min(raw.count, limit))
                if n > 0 { result = .done(n); return n }
                if n == 0 { result = .closed; return 0 }
                if errno == EINTR { continue }
                result = errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .closed
                return 0
            }
        }
        return result
    }

    /// Writes as much of `buffer` as the socket takes, moving its reader index past it.
    static func write(_ fd: Int32, _ buffer: inout ByteBuffer) -> IOResult {
        var written = 0
        while buffer.readableBytes > 0 {
            let n = buffer.withUnsafeReadableBytes { raw in Glibc.write(fd, raw.baseAddress, raw.count) }
            if n > 0 {
                buffer.moveReaderIndex(forwardBy: n)
                written += n
                continue
            }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { return written > 0 ? .done(written) : .wouldBlock }
            return .closed
        }
        return .done(written)
    }
}
