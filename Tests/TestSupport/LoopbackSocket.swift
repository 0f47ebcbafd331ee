import Glibc

/// TCP sockets on 127.0.0.1 for tests that need a port: one nobody listens on, or a listener
/// of the test's own (a server that answers what the test wants, garbage included).
public enum LoopbackSocket {
    /// A socket bound to 127.0.0.1 on a port the kernel picked, listening when `listen`; the
    /// caller closes it.
    public static func bind(listen: Bool) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FixtureError(message: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1 }
        }
        guard rc == 0, !listen || Glibc.listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw FixtureError(message: "binding a socket on 127.0.0.1: \(message)")
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// A port nothing listens on right now (bound, then released).
    public static func freePort() throws -> UInt16 {
        let (fd, port) = try bind(listen: false)
        close(fd)
        return port
    }
}
