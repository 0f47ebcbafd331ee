import NIOCore
import Synchronization

/// One backend of the route table: a Service port and the ready endpoints behind it. Rules that
/// name the same Service port share one target, so round-robin spreads over all their requests.
/// Immutable but for the round-robin counter; a new route table makes new targets.
public final class IngressBackendTarget: Sendable, CustomStringConvertible {
    public let namespace: String
    public let serviceName: String
    /// The port as the Ingress names it: a number or a name.
    public let servicePort: String
    /// The ready endpoints (EndpointSlice addresses whose `ready` condition is not false), in
    /// the order of their slices.
    public let endpoints: [BackendEndpoint]
    /// Why this backend cannot be served at all (no such Service or port): requests answer 503.
    public let unavailableReason: String?
    /// The `IngressProblem` reason that goes with `unavailableReason`.
    let unavailableCode: String?
    private let nextIndex = Atomic<Int>(0)

    init(namespace: String, serviceName: String, servicePort: String, endpoints: [BackendEndpoint],
         unavailableReason: String? = nil, unavailableCode: String? = nil) {
        self.namespace = namespace
        self.serviceName = serviceName
        self.servicePort = servicePort
        self.endpoints = endpoints
        self.unavailableReason = unavailableReason
        self.unavailableCode = unavailableCode
    }

    public var description: String { "\(namespace)/\(serviceName):\(servicePort)" }

    /// The index in `endpoints` the next request starts at (round-robin; relaxed ordering is
    /// enough: the counter only spreads load).
    func nextStart() -> Int {
        let count = endpoints.count
        guard count > 1 else { return 0 }
        let value = nextIndex.add(1, ordering: .relaxed).oldValue
        return (value & Int.max) % count
    }
}

/// A pod address and port a backend connection goes to.
public struct BackendEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int
    /// The socket address, made once when the table is built.
    let address: SocketAddress
    /// The hash of host and port, made once: the backend pools look endpoints up twice per
    /// request, and hashing the host string each time showed in profiles.
    private let hashKey: Int

    public init(host: String, port: Int) throws {
        self.host = host
        self.port = port
        self.address = try SocketAddress(ipAddress: host, port: port)
        var hasher = Hasher()
        hasher.combine(host)
        hasher.combine(port)
        self.hashKey = hasher.finalize()
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func == (lhs: BackendEndpoint, rhs: BackendEndpoint) -> Bool {
        lhs.port == rhs.port && lhs.host == rhs.host
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(hashKey)
    }
}
