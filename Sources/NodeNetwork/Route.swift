import CShims

/// An IPv4 route (RTM_NEWROUTE), as built for requests and parsed from dumps.
public struct Route: Sendable, Equatable {
    /// Destination network; `0.0.0.0/0` is the default route.
    public var destination: IPv4Subnet
    /// The next hop, nil for a directly connected route.
    public var gateway: IPv4Address?
    /// Output interface index, 0 to let the kernel pick it from the gateway.
    public var outputInterface: Int32
    /// rtm_protocol: who owns the route. `Route.swiftletProtocol` marks ours.
    public var proto: UInt8
    /// rtm_scope (universe, link, host...).
    public var scope: UInt8
    /// rtm_table; 254 is main.
    public var table: UInt8
    /// rtm_type; 1 is RTN_UNICAST.
    public var type: UInt8

    /// rtm_protocol of the routes swiftlet owns (`ip route show proto 83`).
    public static let swiftletProtocol = UInt8(SL_RTPROT_SWIFTLET)
    /// RTPROT_BOOT, what `ip route add` uses when no protocol is given.
    public static let bootProtocol: UInt8 = 3
    /// RT_TABLE_MAIN.
    public static let mainTable = SL_RT_TABLE_MAIN

    /// A route; defaults are those of `ip route add` (boot protocol, universe scope, main table, unicast).
    public init(destination: IPv4Subnet, gateway: IPv4Address? = nil, outputInterface: Int32 = 0,
                proto: UInt8 = Route.bootProtocol, scope: UInt8 = SL_RT_SCOPE_UNIVERSE,
                table: UInt8 = Route.mainTable, type: UInt8 = 1) {
        self.destination = destination
        self.gateway = gateway
        self.outputInterface = outputInterface
        self.proto = proto
        self.scope = scope
        self.table = table
        self.type = type
    }

    /// The default route `0.0.0.0/0`.
    public static let defaultDestination = IPv4Subnet(network: IPv4Address(0), prefixLength: 0)
}
