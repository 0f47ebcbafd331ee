#if canImport(Glibc)
import Glibc
#endif

/// sd_notify(3) without libsystemd: one datagram to the socket systemd names in
/// `$NOTIFY_SOCKET` for `Type=notify` services (`READY=1`, `STOPPING=1`, `STATUS=...`).
/// The protocol: https://www.freedesktop.org/software/systemd/man/latest/sd_notify.html
/// (a path, or an abstract socket when it starts with `@`). Outside systemd there is no
/// socket and `notify` does nothing.
public struct SystemdNotifier: Sendable {
    /// The socket address, nil when not started by systemd with `Type=notify`.
    public let socketPath: String?

    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path.flatMap { $0.hasPrefix("/") || $0.hasPrefix("@") ? $0 : nil }
    }

    /// Sends `state`, e.g. "READY=1\nSTATUS=serving". Returns false when there is no socket.
    @discardableResult
    public func notify(_ state: String) throws(SystemdNotifyError) -> Bool {
        guard let socketPath else { return false }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(socketPath.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw .init(socketPath, "socket path longer than \(capacity - 1) bytes", 0) }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .init(socketPath, "socket", errno) }
        defer { close(fd) }
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                message.withUnsafeBytes { body in
                    var result: Int
                    repeat {
                        result = sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL), raw, length)
                    } while result < 0 && errno == EINTR
                    return result
                }
            }
        }
        guard sent == message.count else { throw .init(socketPath, "sendto", sent < 0 ? errno : EIO) }
        return true
    }
}

/// sd_notify failed: the socket and the step.
public struct SystemdNotifyError: Error, CustomStringConvertible, Sendable {
    public var socket: String
    public var step: String
    public var errno: Int32

    init(_ socket: String, _ step: String, _ err: Int32) {
        self.socket = socket
        self.step = step
        self.errno = err
    }

    public var description: String {
        let reason = errno == 0 ? "" : ": " + String(cString: strerror(errno))
        return "sd_notify to \(socket): \(step)\(reason)"
    }
}
