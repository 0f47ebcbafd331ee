import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The addresses of this host's interfaces, for the serving certificate of a server that
/// listens on all of them: agents dial the server by one of these (k3s puts the node IPs in
/// its certificate for the same reason).
public enum HostAddresses {
    /// The IPv4 addresses of the interfaces that are up, loopback included, sorted.
    public static func ipv4() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: Set<String> = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let converted = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { socketAddress -> Bool in
                var inAddress = socketAddress.pointee.sin_addr
                return inet_ntop(AF_INET, &inAddress, &text, socklen_t(text.count)) != nil
            }
            if converted {
                addresses.insert(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return addresses.sorted()
    }
}
