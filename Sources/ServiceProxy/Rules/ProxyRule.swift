import NodeNetwork

/// One rule of a per-service chain, in the shapes kube-proxy's nftables mode writes
/// (syncProxyRules, writeServiceToEndpointRules). Each has the text `nft list` prints for it
/// and the nf_tables expressions it is made of; the tests hold the two together by listing
/// what the expressions programmed.
enum ProxyRule: Hashable, Sendable {
    /// `ip saddr <endpoint> jump mark-for-masquerade`: hairpin, a pod reaching itself through
    /// its service must see the answer come from the node, not from itself.
    case masqueradeIfSourceIs(IPv4Address)
    /// `update @<set> { ip saddr }`: remember the client for session affinity.
    case rememberClient(set: String)
    /// `meta l4proto <proto> dnat to <address>:<port>`
    case dnat(L4Protocol, IPv4Address, UInt16)
    /// `ip saddr @<set> goto <endpoint chain>`: a remembered client goes back to its endpoint.
    case stickyClient(set: String, endpointChain: String)
    /// `numgen random mod <n> vmap { 0 : goto <a>, 1 : goto <b>, ... }`
    case balance([String])
    /// `ip daddr <clusterIP> <proto> dport <port> ip saddr != <clusterCIDR> jump mark-for-masquerade`:
    /// off-cluster traffic to a ClusterIP (the node itself, a routed host) is masqueraded so the
    /// answer comes back through this node.
    case masqueradeOffCluster(clusterIP: IPv4Address, L4Protocol, UInt16, clusterCIDR: IPv4Subnet)
    /// `jump mark-for-masquerade`
    case masquerade
    /// `goto <chain>`
    case goto(String)
    /// `ip saddr <clusterCIDR> goto <chain>`: pods skip externalTrafficPolicy Local.
    case gotoIfSourceIn(IPv4Subnet, String)
    /// `fib saddr type local jump mark-for-masquerade`: the node itself, reaching a node port.
    case masqueradeIfFromNode
    /// `fib saddr type local goto <chain>`
    case gotoIfFromNode(String)
    /// `ip saddr <cidr> return`: a source `loadBalancerSourceRanges` allows leaves the firewall.
    case returnIfSourceIn(IPv4Subnet)
    /// `drop`: what the firewall does with every other source.
    case drop

    static let markChain = "mark-for-masquerade"

    /// As `nft list` prints it.
    var text: String {
        switch self {
        case .masqueradeIfSourceIs(let address): return "ip saddr \(address) jump \(Self.markChain)"
        case .rememberClient(let set): return "update @\(set) { ip saddr }"
        case .dnat(let proto, let address, let port): return "meta l4proto \(proto.nftName) dnat to \(address):\(port)"
        case .stickyClient(let set, let chain): return "ip saddr @\(set) goto \(chain)"
        case .balance(let chains):
            let entries = chains.enumerated().map { "\($0.offset) : goto \($0.element)" }.joined(separator: ", ")
            return "numgen random mod \(chains.count) vmap { \(entries) }"
        case .masqueradeOffCluster(let ip, let proto, let port, let cidr):
            return "ip daddr \(ip) \(proto.nftName) dport \(port) ip saddr != \(cidr) jump \(Self.markChain)"
        case .masquerade: return "jump \(Self.markChain)"
        case .goto(let chain): return "goto \(chain)"
        case .gotoIfSourceIn(let cidr, let chain): return "ip saddr \(cidr) goto \(chain)"
        case .masqueradeIfFromNode: return "fib saddr type local jump \(Self.markChain)"
        case .gotoIfFromNode(let chain): return "fib saddr type local goto \(chain)"
        case .returnIfSourceIn(let cidr): return "ip saddr \(cidr.prefixLength == 32 ? cidr.network.description : cidr.description) return"
        case .drop: return "drop"
        }
    }

    /// The rule's expressions. `.balance` refers to an anonymous verdict map the batch
    /// creates just before (see `add(to:chain:)`).
    func expressions(anonymousMap: (name: String, id: UInt32)? = nil) -> [NFTExpression] {
        let masquerade = NFTExpression.verdict(.jump(Self.markChain))
        switch self {
        case .masqueradeIfSourceIs(let address):
            return [Self.sourceAddress, .compare(equal: true, data: address.bytes), masquerade]
        case .rememberClient(let set):
            return [Self.sourceAddress, .dynsetUpdate(set: set, setID: nil)]
        case .dnat(let proto, let address, let port):
            return [.metaL4Protocol, .compare(equal: true, data: [proto.number]),
                    .immediate(register: NFTNumbers.register1, data: address.bytes),
                    .immediate(register: NFTNumbers.register2, data: Self.be16(port)), .dnatFromRegisters]
        case .stickyClient(let set, let chain):
            return [Self.sourceAddress, .lookup(set: set, setID: nil, verdictMap: false), .verdict(.goto(chain))]
        case .balance(let chains):
            let map = anonymousMap ?? ("__map%d", 0)
            return [.randomNumber(modulus: UInt32(chains.count)), .lookup(set: map.name, setID: map.id, verdictMap: true)]
        case .masqueradeOffCluster(let ip, let proto, let port, let cidr):
            return [.payload(transport: false, offset: 16, length: 4), .compare(equal: true, data: ip.bytes),
                    .metaL4Protocol, .compare(equal: true, data: [proto.number]),
                    .payload(transport: true, offset: 2, length: 2), .compare(equal: true, data: Self.be16(port))]
                + Self.sourceIn(cidr, equal: false) + [masquerade]
        case .masquerade:
            return [masquerade]
        case .goto(let chain):
            return [.verdict(.goto(chain))]
        case .gotoIfSourceIn(let cidr, let chain):
            return Self.sourceIn(cidr, equal: true) + [.verdict(.goto(chain))]
        case .masqueradeIfFromNode:
            return Self.sourceIsLocal + [masquerade]
        case .gotoIfFromNode(let chain):
            return Self.sourceIsLocal + [.verdict(.goto(chain))]
        case .returnIfSourceIn(let cidr):
            return Self.sourceIn(cidr, equal: true) + [.verdict(.return)]
        case .drop:
            return [.verdict(.drop)]
        }
    }

    /// Appends the rule to `chain` of `table` in `batch` (with its anonymous map first, for `.balance`).
    func add(to batch: inout NFTBatch, table: String, chain: String) {
        var map: (name: String, id: UInt32)?
        if case .balance(let chains) = self {
            map = batch.addAnonymousVerdictMap(table: table, chains.map { .goto($0) })
        }
        batch.addRule(table: table, chain: chain, expressions(anonymousMap: map), text: text)
    }

    private static let sourceAddress = NFTExpression.payload(transport: false, offset: 12, length: 4)

    /// `ip saddr [!=] <cidr>` as nft compiles it: whole bytes of the prefix are loaded and
    /// compared; a prefix that ends inside a byte is masked first.
    private static func sourceIn(_ cidr: IPv4Subnet, equal: Bool) -> [NFTExpression] {
        let network = cidr.network.bytes
        if cidr.prefixLength % 8 == 0 {
            let length = cidr.prefixLength / 8
            return [.payload(transport: false, offset: 12, length: UInt32(length)),
                    .compare(equal: equal, data: Array(network.prefix(length)))]
        }
        let mask = IPv4Address(cidr.mask).bytes
        return [sourceAddress, .mask(mask), .compare(equal: equal, data: network)]
    }

    /// `fib saddr type local`: the route type (RTN_LOCAL = 2) in host byte order.
    private static var sourceIsLocal: [NFTExpression] {
        let local = withUnsafeBytes(of: UInt32(2)) { Array($0) }
        return [.fibSourceAddressType, .compare(equal: true, data: local)]
    }

    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }
}
