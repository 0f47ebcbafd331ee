import CShims
import Glibc

/// One rtnetlink request before it is numbered. `encode(seq:)` gives the exact bytes, built by
/// the C builders in `CShims/netlink.c` (iproute2's attribute order); `summary` is how an error
/// names it (`RTM_NEWLINK veth swl3f2a`).
public enum RouteRequest: Sendable, Equatable {
    /// A bridge with a fixed MAC (its address would otherwise follow the lowest port's).
    case createBridge(name: String, mtu: UInt32, mac: [UInt8]?)
    /// A veth pair: `name` here (in the socket's namespace, a port of `master` when > 0),
    /// `peer` created directly in the namespace `peerNetns`; both with `mtu`; our end up if
    /// `up` (the peer starts down and is brought up from inside its namespace).
    case createVeth(name: String, peer: String, peerNetns: Int32, master: Int32, mtu: UInt32, up: Bool)
    case deleteLink(name: String)
    case setLink(LinkChange)
    /// Asks for one link by name; answered by `RouteReply.link`.
    case getLink(name: String)
    /// Adds or replaces an address (`ip addr replace`: idempotent).
    case replaceAddress(index: Int32, address: IPv4Address, prefixLength: Int)
    case deleteAddress(index: Int32, address: IPv4Address, prefixLength: Int)
    /// Adds or replaces a route (`ip route replace`: idempotent).
    case replaceRoute(Route)
    /// Deletes a route, matched like `ip route del` on destination, table, protocol and gateway.
    case deleteRoute(Route)
    /// All IPv4 routes; answered by `RouteReply.routes`. Must be sent alone.
    case dumpRoutes

    /// How error messages name this request.
    public var summary: String {
        switch self {
        case .createBridge(let name, _, _): return "RTM_NEWLINK bridge \(name)"
        case .createVeth(let name, let peer, _, _, _, _): return "RTM_NEWLINK veth \(name) (peer \(peer))"
        case .deleteLink(let name): return "RTM_DELLINK \(name)"
        case .setLink(let change): return "RTM_NEWLINK set \(change.name ?? "ifindex \(change.index)")"
        case .getLink(let name): return "RTM_GETLINK \(name)"
        case .replaceAddress(let index, let address, let length):
            return "RTM_NEWADDR \(address)/\(length) on ifindex \(index)"
        case .deleteAddress(let index, let address, let length):
            return "RTM_DELADDR \(address)/\(length) on ifindex \(index)"
        case .replaceRoute(let route): return "RTM_NEWROUTE \(Self.describe(route))"
        case .deleteRoute(let route): return "RTM_DELROUTE \(Self.describe(route))"
        case .dumpRoutes: return "RTM_GETROUTE dump"
        }
    }

    static func describe(_ route: Route) -> String {
        var text = route.destination.prefixLength == 0 ? "default" : route.destination.description
        if let gateway = route.gateway { text += " via \(gateway)" }
        if route.outputInterface > 0 { text += " dev ifindex \(route.outputInterface)" }
        return text
    }

    /// Whether the reply is a dump (ends with NLMSG_DONE) rather than an ACK.
    var isDump: Bool { self == .dumpRoutes }

    /// The message bytes with sequence number `seq`.
    public func encode(seq: UInt32) throws -> [UInt8] {
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: 512) { buffer, count in
            guard let base = buffer.baseAddress else { failure = ENOMEM; count = 0; return }
            let length = build(base, buffer.count, seq)
            if length < 0 { failure = Glibc.errno; count = 0 } else { count = Int(length) }
        }
        guard failure == 0 else {
            throw NetworkError.netlink(request: summary + " (encoding)", errno: failure, message: nil)
        }
        return bytes
    }

    private func build(_ buf: UnsafeMutablePointer<UInt8>, _ cap: Int, _ seq: UInt32) -> Int32 {
        let flagsCreate = SL_NLM_F_CREATE | SL_NLM_F_EXCL
        let flagsReplace = SL_NLM_F_CREATE | SL_NLM_F_REPLACE
        switch self {
        case .createBridge(let name, let mtu, let mac):
            if let mac {
                guard mac.count == 6 else { Glibc.errno = EINVAL; return -1 }
                return sl_nl_link_bridge(buf, cap, seq, flagsCreate, name, mtu, mac)
            }
            return sl_nl_link_bridge(buf, cap, seq, flagsCreate, name, mtu, nil)
        case .createVeth(let name, let peer, let netns, let master, let mtu, let up):
            return sl_nl_link_veth(buf, cap, seq, flagsCreate, name, peer, netns, master, mtu, up ? 1 : 0)
        case .deleteLink(let name):
            return sl_nl_link_del(buf, cap, seq, 0, name)
        case .setLink(let change):
            if let mac = change.mac, mac.count != 6 { Glibc.errno = EINVAL; return -1 }
            return Self.withOptionalCString(change.name) { name in
                Self.withOptionalBytes(change.mac) { mac in
                    var c = sl_link_change(
                        ifindex: change.index, name: name, up: change.up.map { $0 ? 1 : 0 } ?? -1,
                        master: change.master ?? -1, mtu: change.mtu ?? 0, mac: mac,
                        hairpin: change.hairpin.map { $0 ? 1 : 0 } ?? -1)
                    return sl_nl_link_set(buf, cap, seq, &c)
                }
            }
        case .getLink(let name):
            return sl_nl_link_get(buf, cap, seq, name)
        case .replaceAddress(let index, let address, let length):
            return sl_nl_addr(buf, cap, seq, SL_RTM_NEWADDR, flagsReplace, AF_INET, index, address.bytes, UInt8(clamping: length))
        case .deleteAddress(let index, let address, let length):
            return sl_nl_addr(buf, cap, seq, SL_RTM_DELADDR, 0, AF_INET, index, address.bytes, UInt8(clamping: length))
        case .replaceRoute(let route):
            var r = Self.cRoute(route)
            return sl_nl_route(buf, cap, seq, SL_RTM_NEWROUTE, flagsReplace, &r)
        case .deleteRoute(let route):
            // iproute2's delete: scope "nowhere" and type unspecified match any scope and type.
            var r = Self.cRoute(route)
            r.scope = SL_RT_SCOPE_NOWHERE
            r.type = 0
            r.oif = 0
            return sl_nl_route(buf, cap, seq, SL_RTM_DELROUTE, 0, &r)
        case .dumpRoutes:
            return sl_nl_route_dump(buf, cap, seq, AF_INET)
        }
    }

    static func cRoute(_ route: Route) -> sl_route {
        var r = sl_route()
        r.family = UInt8(AF_INET)
        r.dst_len = UInt8(route.destination.prefixLength)
        withUnsafeMutableBytes(of: &r.dst) { raw in
            for (i, byte) in route.destination.network.bytes.enumerated() { raw[i] = byte }
        }
        if let gateway = route.gateway {
            r.has_gateway = 1
            withUnsafeMutableBytes(of: &r.gateway) { raw in
                for (i, byte) in gateway.bytes.enumerated() { raw[i] = byte }
            }
        }
        r.oif = route.outputInterface
        r.protocol = route.proto
        r.scope = route.scope
        r.table = route.table
        r.type = route.type
        return r
    }

    private static func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let string else { return body(nil) }
        return string.withCString { body($0) }
    }

    private static func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafePointer<UInt8>?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
