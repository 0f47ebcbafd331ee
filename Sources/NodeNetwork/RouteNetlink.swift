import CShims
import Glibc

/// What the kernel answered to one `RouteRequest`.
public enum RouteReply: Sendable, Equatable {
    /// Done (NLMSG_ERROR with error 0).
    case ack
    /// The link asked for by `getLink`.
    case link(Link)
    /// The routes of a `dumpRoutes`.
    case routes([Route])
}

/// rtnetlink requests over one `NetlinkSocket`: numbers them, sends a batch in one datagram
/// (the kernel handles the messages in order and acknowledges each), and matches the replies
/// back by sequence number. Not thread-safe; one exchange at a time.
public final class RouteNetlink {
    /// Where requests go.
    public let socket: any NetlinkSocket
    private var nextSequence: UInt32

    /// A client numbering its messages from `firstSequence`.
    public init(socket: any NetlinkSocket, firstSequence: UInt32 = 1) {
        self.socket = socket
        self.nextSequence = firstSequence
    }

    /// Sends `requests` in one datagram and returns each one's outcome, in order. Throws only
    /// when the socket itself fails; a request the kernel refuses is a `.failure` here.
    public func performEach(_ requests: [RouteRequest]) throws -> [Result<RouteReply, NetworkError>] {
        guard !requests.isEmpty else { return [] }
        if requests.contains(where: \.isDump) && requests.count > 1 {
            throw NetworkError.invalid("a netlink dump must be sent alone, not batched with \(requests.count - 1) other request(s)")
        }
        var datagram: [UInt8] = []
        var pending: [UInt32: Int] = [:]
        for (position, request) in requests.enumerated() {
            let seq = nextSequence
            nextSequence = nextSequence == UInt32.max ? 1 : nextSequence + 1
            datagram += try request.encode(seq: seq)
            pending[seq] = position
        }
        try socket.send(datagram)

        var results = [Result<RouteReply, NetworkError>?](repeating: nil, count: requests.count)
        var links: [Int: Link] = [:]
        var routes: [Int: [Route]] = [:]
        while !pending.isEmpty {
            let reply = try socket.receive()
            try reply.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                var message = sl_nl_reply()
                while true {
                    let rc = sl_nl_next(base, buffer.count, &offset, &message)
                    if rc == 0 { break }
                    guard rc > 0 else {
                        throw NetworkError.system(step: "parse netlink reply", detail: "", errno: Glibc.errno)
                    }
                    // A reply to an earlier, abandoned exchange: not ours to interpret.
                    guard let position = pending[message.seq] else { continue }
                    let request = requests[position]
                    switch message.type {
                    case SL_NLMSG_ERROR, SL_NLMSG_DONE:
                        if message.error != 0 {
                            let text = message.message.map { String(cString: $0) }
                            results[position] = .failure(.netlink(request: request.summary, errno: message.error, message: text))
                        } else if request.isDump {
                            // A dump is over at NLMSG_DONE; its ACK (if any) ends it too.
                            results[position] = .success(.routes(routes[position] ?? []))
                        } else if let link = links[position] {
                            results[position] = .success(.link(link))
                        } else {
                            results[position] = .success(.ack)
                        }
                        pending[message.seq] = nil
                    case SL_RTM_NEWLINK:
                        var info = sl_link_info()
                        if sl_nl_parse_link(message.payload, message.payload_len, &info) == 0 {
                            let name = withUnsafeBytes(of: info.name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                            links[position] = Link(index: info.ifindex, name: name, flags: info.flags,
                                                   master: info.master, mtu: info.mtu)
                        }
                    case SL_RTM_NEWROUTE:
                        var parsed = sl_route()
                        if sl_nl_parse_route(message.payload, message.payload_len, &parsed) == 0,
                           parsed.family == UInt8(AF_INET) {
                            routes[position, default: []].append(Self.route(parsed))
                        }
                    default:
                        continue
                    }
                }
            }
        }
        return results.map { $0 ?? .failure(.invalid("no reply to \(requests[0].summary)")) }
    }

    /// Sends `requests` in one datagram; throws the first refusal, naming its request.
    @discardableResult
    public func perform(_ requests: [RouteRequest]) throws -> [RouteReply] {
        try performEach(requests).map { try $0.get() }
    }

    /// The link called `name`, or nil when there is none (ENODEV).
    public func link(named name: String) throws -> Link? {
        switch try performEach([.getLink(name: name)])[0] {
        case .success(.link(let link)): return link
        case .failure(let error) where error.errno == ENODEV: return nil
        case .failure(let error): throw error
        case .success: throw NetworkError.invalid("RTM_GETLINK \(name): the kernel answered without the link")
        }
    }

    /// Every IPv4 route of every table.
    public func routes() throws -> [Route] {
        guard case .routes(let routes) = try perform([.dumpRoutes])[0] else { return [] }
        return routes
    }

    static func route(_ r: sl_route) -> Route {
        let dst = withUnsafeBytes(of: r.dst) { IPv4Address(bytes: $0.prefix(4)) }
        let gateway = r.has_gateway != 0 ? withUnsafeBytes(of: r.gateway) { IPv4Address(bytes: $0.prefix(4)) } : nil
        return Route(destination: IPv4Subnet(network: dst, prefixLength: Int(r.dst_len)), gateway: gateway,
                     outputInterface: r.oif, proto: r.protocol, scope: r.scope, table: r.table, type: r.type)
    }
}
