import CShims
import Glibc

/// A NETLINK_ROUTE socket bound to one network namespace for its whole life. It is opened by
/// `sl_nl_open`, which enters the namespace on the calling thread, creates the socket and comes
/// back before returning, so later use from any thread still talks to that namespace.
public final class RouteSocket: NetlinkSocket {
    /// The socket's file descriptor (closed on deinit).
    public let fd: Int32
    /// Whose namespace this is, for error messages ("pod 1234", "node").
    public let owner: String
    private var buffer = [UInt8](repeating: 0, count: 65536)

    /// Opens a socket in the namespace `netns` (an open namespace fd), or in the calling
    /// thread's namespace when nil. Replies are awaited at most `timeoutSeconds`.
    public init(netns: Int32?, owner: String, timeoutSeconds: Int = 10) throws {
        var step: UnsafePointer<CChar>? = nil
        let fd = sl_nl_open(netns ?? -1, &step)
        guard fd >= 0 else {
            throw NetworkError.system(step: step.map { String(cString: $0) } ?? "open netlink socket",
                                      detail: "for \(owner)", errno: Glibc.errno)
        }
        self.fd = fd
        self.owner = owner
        // A reply that never comes (a kernel bug, a lost datagram) must not hang pod setup.
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends one datagram to the kernel, retrying on EINTR.
    public func send(_ datagram: [UInt8]) throws {
        // No address: an unconnected netlink socket sends to the kernel (port 0).
        while true {
            let sent = datagram.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            if sent == datagram.count { return }
            if sent < 0 && Glibc.errno == EINTR { continue }
            throw NetworkError.system(step: "send(netlink)", detail: "for \(owner)",
                                      errno: sent < 0 ? Glibc.errno : EMSGSIZE)
        }
    }

    /// Receives one datagram, retrying on EINTR; times out as configured.
    public func receive() throws -> [UInt8] {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { return Array(buffer[0..<count]) }
            if count < 0 && Glibc.errno == EINTR { continue }
            let err = count < 0 ? Glibc.errno : ECONNRESET
            throw NetworkError.system(step: "recv(netlink)", detail: err == EAGAIN ? "for \(owner) (no reply in time)" : "for \(owner)", errno: err)
        }
    }
}
