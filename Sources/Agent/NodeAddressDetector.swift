import Runtime
import Foundation
import Glibc

/// Finds the node's InternalIP when --node-ip is not given, as kubelet's
/// `ChooseHostInterface` does: the IPv4 address of the interface holding the default route,
/// else the first IPv4 address of an up, non-loopback interface. Both readings are of the
/// calling thread's network namespace (/proc/thread-self/net and a netlink socket), so an
/// agent, or a test, inside a namespace sees that namespace's addresses.
public enum NodeAddressDetector {
    /// One IPv4 address of one interface.
    public struct InterfaceAddress: Sendable, Equatable {
        public var interface: String
        public var address: String
        public var isUp: Bool
        public var isLoopback: Bool
    }

    /// The address to report, or nil when this namespace has no usable IPv4 address.
    public static func detect(excluding excluded: Set<String> = []) -> String? {
        let routes = ProcFile.read("/proc/thread-self/net/route") ?? ""
        return choose(defaultRouteInterface: defaultRouteInterface(routeTable: routes),
                      addresses: ipv4Addresses(), excluding: excluded)
    }

    /// The choice itself, separate from the readings so it is tested on any input.
    static func choose(defaultRouteInterface: String?, addresses: [InterfaceAddress], excluding excluded: Set<String>) -> String? {
        let usable = addresses.filter { entry in
            entry.isUp && !entry.isLoopback && !excluded.contains(entry.interface)
                && !entry.address.hasPrefix("127.") && !entry.address.hasPrefix("169.254.") // kubelet skips link-local
        }
        if let defaultRouteInterface, let match = usable.first(where: { $0.interface == defaultRouteInterface }) {
            return match.address
        }
        return usable.first?.address
    }

    /// The interface of the lowest-metric default IPv4 route that is up, from the text of
    /// /proc/net/route (`Iface Destination Gateway Flags RefCnt Use Metric Mask ...`, hex fields).
    static func defaultRouteInterface(routeTable text: String) -> String? {
        var best: (interface: String, metric: Int)?
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 8, fields[1] == "00000000", fields[7] == "00000000",
                  let flags = Int(fields[3], radix: 16), flags & 0x1 != 0, // RTF_UP
                  let metric = Int(fields[6]) else { continue }
            if best == nil || metric < best?.metric ?? Int.max { best = (String(fields[0]), metric) }
        }
        return best?.interface
    }

    /// Every IPv4 address of the namespace (getifaddrs), in the kernel's order.
    static func ipv4Addresses() -> [InterfaceAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var result: [InterfaceAddress] = []
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  let name = entry.pointee.ifa_name else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let converted = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer -> Bool in
                var raw = pointer.pointee.sin_addr
                return inet_ntop(AF_INET, &raw, &text, socklen_t(INET_ADDRSTRLEN)) != nil
            }
            guard converted else { continue }
            let flags = entry.pointee.ifa_flags
            result.append(InterfaceAddress(interface: String(cString: name), address: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                                           isUp: flags & 0x1 != 0, isLoopback: flags & 0x8 != 0)) // IFF_UP, IFF_LOOPBACK
        }
        return result
    }
}
