import Glibc

/// An IPv4 or IPv6 socket address (sockaddr_in/sockaddr_in6 bytes), comparable and printable.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    let storage: [UInt8]
    public let address: [UInt8]
    public let port: UInt16

    /// `host` is an IP address (no names: this is below the resolver).
    public init(host: String, port: UInt16) throws {
        guard let bytes = IPAddressText.parse(host) else {
            throw DNSServerError("\(host) is not an IP address")
        }
        self.init(address: bytes, port: port)
    }

    init(address bytes: [UInt8], port: UInt16) {
        address = bytes
        self.port = port
        if bytes.count == 4 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: bytes) }
            storage = withUnsafeBytes(of: &sin) { Array($0) }
        } else {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
            storage = withUnsafeBytes(of: &sin6) { Array($0) }
        }
    }

    /// From a sockaddr the kernel filled in; nil for other families.
    init?(_ pointer: UnsafePointer<sockaddr>, length: socklen_t) {
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(pointer).load(as: sockaddr_in.self)
            self.init(address: withUnsafeBytes(of: sin.sin_addr) { Array($0) }, port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = UnsafeRawPointer(pointer).load(as: sockaddr_in6.self)
            self.init(address: withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }, port: UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }

    var family: Int32 { address.count == 4 ? AF_INET : AF_INET6 }

    public var isLoopback: Bool {
        address.count == 4 ? address[0] == 127 : address == [UInt8](repeating: 0, count: 15) + [1]
    }

    public var isUnspecified: Bool { address.allSatisfy { $0 == 0 } }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        storage.withUnsafeBytes { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }
    }

    public var description: String {
        address.count == 4 ? "\(IPAddressText.format(address)):\(port)" : "[\(IPAddressText.format(address))]:\(port)"
    }
}

/// An error of the DNS server's own setup or sockets, saying what failed and where.
public struct DNSServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }

    static func system(_ step: String) -> DNSServerError {
        DNSServerError("\(step): \(String(cString: strerror(errno)))")
    }
}
