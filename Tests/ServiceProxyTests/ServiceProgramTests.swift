import NodeNetwork
import Testing
@testable import ServiceProxy

/// What a service becomes in the table, rule by rule, for the cases kube-proxy's nftables
/// proxier distinguishes (proxier_test.go covers the same ground with its own fake).
@Suite("Service programs")
struct ServiceProgramTests {
    static let cluster = IPv4Subnet("10.42.0.0/16")!
    static let name = ServiceName(namespace: "default", name: "web")

    static func service(nodePort: UInt16? = nil, proto: L4Protocol = .tcp, affinity: Int? = nil, externalLocal: Bool = false,
                        internalLocal: Bool = false) -> ServiceInfo {
        ServiceInfo(service: name, clusterIP: IPv4Address("10.96.0.10")!,
                    ports: [ServicePortInfo(name: "http", proto: proto, port: 80, nodePort: nodePort)],
                    affinityTimeout: affinity, externalPolicyLocal: externalLocal, internalPolicyLocal: internalLocal)
    }

    static func slice(_ endpoints: [SliceInfo.Endpoint], proto: L4Protocol = .tcp) -> SliceInfo {
        SliceInfo(service: name, ports: [.init(name: "http", proto: proto, port: 8080)], endpoints: endpoints)
    }

    static func endpoint(_ address: String, node: String = "n1", ready: Bool = true, terminating: Bool = false) -> SliceInfo.Endpoint {
        .init(address: IPv4Address(address)!, ready: ready, serving: ready || terminating, terminating: terminating, nodeName: node)
    }

    static func build(_ service: ServiceInfo, _ endpoints: [SliceInfo.Endpoint], proto: L4Protocol = .tcp) -> ServiceProgram {
        ServiceProgram.build(service, slices: [slice(endpoints, proto: proto)], nodeName: "n1", clusterCIDR: cluster, table: "proxy-3")
    }

    /// The program as nft would list it: "chain: rule" lines and "map { key } : verdict" lines.
    static func text(_ program: ServiceProgram) -> [String] {
        program.chains.flatMap { chain in chain.rules.map { "\(short(chain.name)): \(short($0.text))" } }
            + program.elements.map { "\($0.key) : \($0.value.map { short($0.text) } ?? "-")" }.sorted()
    }

    /// Names without their hash, so expectations stay readable.
    static func short(_ text: String) -> String {
        var result = text
        while let range = result.range(of: "-[0-9A-F]{8}-", options: .regularExpression) {
            result.replaceSubrange(range, with: ":")
        }
        return result
    }

    @Test func clusterIPWithTwoEndpoints() {
        let program = Self.build(Self.service(), [Self.endpoint("10.42.0.5"), Self.endpoint("10.42.1.7", node: "n2")])
        #expect(Self.text(program) == [
            "endpoint:default/web/tcp/http__10.42.0.5/8080: ip saddr 10.42.0.5 jump mark-for-masquerade",
            "endpoint:default/web/tcp/http__10.42.0.5/8080: meta l4proto tcp dnat to 10.42.0.5:8080",
            "endpoint:default/web/tcp/http__10.42.1.7/8080: ip saddr 10.42.1.7 jump mark-for-masquerade",
            "endpoint:default/web/tcp/http__10.42.1.7/8080: meta l4proto tcp dnat to 10.42.1.7:8080",
            "service:default/web/tcp/http: ip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
            "service:default/web/tcp/http: numgen random mod 2 vmap { 0 : goto endpoint:default/web/tcp/http__10.42.0.5/8080, 1 : goto endpoint:default/web/tcp/http__10.42.1.7/8080 }",
            "cluster-ips { 10.96.0.10 } : -",
            "service-ips { 10.96.0.10 . tcp . 80 } : goto service:default/web/tcp/http",
        ])
        #expect(program.udpFrontends.isEmpty)
    }

    @Test func noEndpointMeansRejectAndNoChains() {
        let program = Self.build(Self.service(nodePort: 30080), [Self.endpoint("10.42.0.5", ready: false)])
        #expect(program.chains.isEmpty)
        #expect(Self.text(program) == [
            "cluster-ips { 10.96.0.10 } : -",
            "no-endpoint-nodeports { tcp . 30080 } : goto reject-chain",
            "no-endpoint-services { 10.96.0.10 . tcp . 80 } : goto reject-chain",
        ])
    }

    @Test func terminatingEndpointsAreALastResort() {
        let onlyTerminating = Self.build(Self.service(), [Self.endpoint("10.42.0.5", ready: false, terminating: true),
                                                          Self.endpoint("10.42.0.6", ready: false)])
        #expect(onlyTerminating.chains.map { Self.short($0.name) }
            == ["endpoint:default/web/tcp/http__10.42.0.5/8080", "service:default/web/tcp/http"])
        let mixed = Self.build(Self.service(), [Self.endpoint("10.42.0.5", ready: false, terminating: true), Self.endpoint("10.42.0.7")])
        #expect(mixed.chains.map { Self.short($0.name) } == ["endpoint:default/web/tcp/http__10.42.0.7/8080", "service:default/web/tcp/http"])
    }

    @Test func externalTrafficPolicyLocalKeepsTheSourceAndUsesLocalEndpoints() {
        let program = Self.build(Self.service(nodePort: 30080, externalLocal: true),
                                 [Self.endpoint("10.42.0.5"), Self.endpoint("10.42.1.7", node: "n2")])
        let text = Self.text(program)
        #expect(text.contains("external:default/web/tcp/http: ip saddr 10.42.0.0/16 goto service:default/web/tcp/http"))
        #expect(text.contains("external:default/web/tcp/http: fib saddr type local jump mark-for-masquerade"))
        #expect(text.contains("external:default/web/tcp/http: fib saddr type local goto service:default/web/tcp/http"))
        #expect(text.contains("external:default/web/tcp/http: goto local:default/web/tcp/http"))
        #expect(text.contains("local:default/web/tcp/http: numgen random mod 1 vmap { 0 : goto endpoint:default/web/tcp/http__10.42.0.5/8080 }"))
        #expect(text.contains("service-nodeports { tcp . 30080 } : goto external:default/web/tcp/http"))
        #expect(!text.contains { $0.contains("no-endpoint") })
        #expect(!text.contains("external:default/web/tcp/http: jump mark-for-masquerade"))

        // No endpoint on this node: node-port traffic from outside is dropped, pods still get in.
        let remoteOnly = Self.text(Self.build(Self.service(nodePort: 30080, externalLocal: true), [Self.endpoint("10.42.1.7", node: "n2")]))
        #expect(remoteOnly.contains("no-endpoint-nodeports { tcp . 30080 } : drop"))
        #expect(remoteOnly.contains("service-nodeports { tcp . 30080 } : goto external:default/web/tcp/http"))
        #expect(!remoteOnly.contains { $0.hasPrefix("external:default/web/tcp/http: goto local") })

        // Cluster policy: masquerade, then every endpoint.
        let clusterPolicy = Self.text(Self.build(Self.service(nodePort: 30080), [Self.endpoint("10.42.1.7", node: "n2")]))
        #expect(clusterPolicy.contains("external:default/web/tcp/http: jump mark-for-masquerade"))
        #expect(clusterPolicy.contains("external:default/web/tcp/http: goto service:default/web/tcp/http"))
    }

    @Test func loadBalancerAddressesLeadToTheExternalChainAtTheServicePort() {
        var service = Self.service(nodePort: 30080)
        service.externalAddresses = [IPv4Address("192.168.77.1")!, IPv4Address("192.168.77.2")!]
        let text = Self.text(Self.build(service, [Self.endpoint("10.42.1.7", node: "n2")]))
        #expect(text.contains("service-ips { 192.168.77.1 . tcp . 80 } : goto external:default/web/tcp/http"))
        #expect(text.contains("service-ips { 192.168.77.2 . tcp . 80 } : goto external:default/web/tcp/http"))
        #expect(text.contains("service-ips { 10.96.0.10 . tcp . 80 } : goto service:default/web/tcp/http"))
        #expect(text.contains("external:default/web/tcp/http: jump mark-for-masquerade"))

        // No endpoint: the addresses refuse the port, as the cluster IP does.
        let empty = Self.text(Self.build(service, []))
        #expect(empty.contains("no-endpoint-services { 192.168.77.1 . tcp . 80 } : goto reject-chain"))
        #expect(!empty.contains { $0.hasPrefix("service-ips") })

        // A ClusterIP service with an external IP and no node port still has an external chain.
        var external = Self.service()
        external.externalAddresses = [IPv4Address("203.0.113.9")!]
        let externalText = Self.text(Self.build(external, [Self.endpoint("10.42.0.5")]))
        #expect(externalText.contains("service-ips { 203.0.113.9 . tcp . 80 } : goto external:default/web/tcp/http"))
        #expect(externalText.contains("external:default/web/tcp/http: goto service:default/web/tcp/http"))
    }

    @Test func internalTrafficPolicyLocal() {
        let program = Self.text(Self.build(Self.service(internalLocal: true), [Self.endpoint("10.42.0.5"), Self.endpoint("10.42.1.7", node: "n2")]))
        #expect(program.contains("service-ips { 10.96.0.10 . tcp . 80 } : goto local:default/web/tcp/http"))
        #expect(program.contains("local:default/web/tcp/http: numgen random mod 1 vmap { 0 : goto endpoint:default/web/tcp/http__10.42.0.5/8080 }"))
        #expect(!program.contains { $0.hasPrefix("service:") }, "\(program)")
        let remoteOnly = Self.text(Self.build(Self.service(internalLocal: true), [Self.endpoint("10.42.1.7", node: "n2")]))
        #expect(remoteOnly.contains("no-endpoint-services { 10.96.0.10 . tcp . 80 } : drop"), "\(remoteOnly)")
    }

    @Test func clientIPAffinityRemembersEachClientPerEndpoint() {
        let program = Self.build(Self.service(affinity: 600), [Self.endpoint("10.42.0.5")])
        let text = Self.text(program)
        #expect(program.affinitySets.count == 1 && program.affinitySets.values.first == 600)
        #expect(text.contains { $0.hasPrefix("endpoint:default/web/tcp/http__10.42.0.5/8080: update @affinity:default/web/tcp/http__10.42.0.5/8080/600 { ip saddr }") })
        #expect(text.contains("service:default/web/tcp/http: ip saddr @affinity:default/web/tcp/http__10.42.0.5/8080/600 goto endpoint:default/web/tcp/http__10.42.0.5/8080"))
        // A new timeout is a new set (a set's timeout cannot change in place).
        #expect(Self.build(Self.service(affinity: 60), [Self.endpoint("10.42.0.5")]).affinitySets.keys != program.affinitySets.keys)
    }

    @Test func udpPortsRecordTheirServingEndpointsForConntrack() {
        let program = Self.build(Self.service(nodePort: 30053, proto: .udp),
                                 [Self.endpoint("10.42.0.5"), Self.endpoint("10.42.0.6", ready: false, terminating: true)], proto: .udp)
        #expect(program.udpFrontends == [.init(clusterIP: IPv4Address("10.96.0.10")!, port: 80, nodePort: 30053,
                                               endpoints: [IPv4Address("10.42.0.5")!, IPv4Address("10.42.0.6")!])])
    }

    @Test func aChangedEndpointTouchesOnlyWhatChanged() {
        let before = Self.build(Self.service(), [Self.endpoint("10.42.0.5"), Self.endpoint("10.42.0.6")])
        let after = Self.build(Self.service(), [Self.endpoint("10.42.0.5"), Self.endpoint("10.42.0.7")])
        var plan = BatchPlan(mainTable: "proxy")
        plan.change(from: before, to: after)
        #expect(plan.fillChains.map { "\($0.table) \(Self.short($0.chain.name))" }
            == ["proxy-3 endpoint:default/web/tcp/http__10.42.0.7/8080", "proxy-3 service:default/web/tcp/http"])
        #expect(plan.createChains.map { Self.short($0.name) } == ["endpoint:default/web/tcp/http__10.42.0.7/8080"])
        #expect(plan.retiredChains.map { "\($0.table) \(Self.short($0.name))" } == ["proxy-3 endpoint:default/web/tcp/http__10.42.0.6/8080"])
        #expect(plan.addElements.isEmpty && plan.deleteElements.isEmpty)

        var none = BatchPlan(mainTable: "proxy")
        none.change(from: before, to: before)
        #expect(none.isEmpty)

        // Dispatch elements go to the shard, filter elements to the main table.
        var removal = BatchPlan(mainTable: "proxy")
        removal.change(from: before, to: nil)
        #expect(removal.retiredChains.count == 3)
        #expect(removal.deleteElements.keys.map { "\($0.table) \($0.map.rawValue)" }.sorted() == ["proxy cluster-ips", "proxy-3 service-ips"])
    }

    @Test func conntrackEntriesToAnEndpointTheServiceLostAreStale() {
        let frontend = ServiceProgram.UDPFrontend(clusterIP: IPv4Address("10.96.0.10")!, port: 53, nodePort: 30053,
                                                  endpoints: [IPv4Address("10.42.0.5")!])
        func entry(_ destination: String, _ port: UInt16, replyFrom: String, proto: UInt8 = 17) -> ConntrackEntry {
            ConntrackEntry(proto: proto,
                           original: .init(source: IPv4Address("10.42.0.9")!, destination: IPv4Address(destination)!, sourcePort: 4000, destinationPort: port),
                           reply: .init(source: IPv4Address(replyFrom)!, destination: IPv4Address("10.42.0.9")!, sourcePort: 53, destinationPort: 4000))
        }
        let entries = [
            entry("10.96.0.10", 53, replyFrom: "10.42.0.5"),          // current endpoint: kept
            entry("10.96.0.10", 53, replyFrom: "10.42.0.6"),          // old endpoint: stale
            entry("10.96.0.10", 54, replyFrom: "10.42.0.6"),          // another port: not ours
            entry("192.168.77.1", 30053, replyFrom: "10.42.0.6"),     // node port, old endpoint: stale
            entry("192.168.77.9", 30053, replyFrom: "10.42.0.6"),     // same port on another host: not ours
            entry("10.96.0.10", 53, replyFrom: "10.42.0.6", proto: 6), // TCP: never touched
        ]
        let stale = ConntrackCleaner.stale(entries, frontends: [frontend], nodeAddresses: [IPv4Address("192.168.77.1")!])
        #expect(stale == [entries[1], entries[3]])
        // No serving endpoint at all: nothing to move flows to, so nothing is deleted.
        let empty = ServiceProgram.UDPFrontend(clusterIP: frontend.clusterIP, port: 53, nodePort: nil, endpoints: [])
        #expect(ConntrackCleaner.stale(entries, frontends: [empty], nodeAddresses: []).isEmpty)
    }

    @Test func conntrackDeleteNamesTheOriginalTuple() {
        let entry = ConntrackEntry(proto: 17,
                                   original: .init(source: IPv4Address("10.42.0.9")!, destination: IPv4Address("10.96.0.10")!, sourcePort: 4000, destinationPort: 53),
                                   reply: .init(source: IPv4Address("10.42.0.6")!, destination: IPv4Address("10.42.0.9")!, sourcePort: 53, destinationPort: 4000))
        var buffer = NetlinkBuffer()
        ConntrackCleaner.encodeDelete(entry, sequence: 7, into: &buffer)
        // The CTA_TUPLE_ORIG bytes are what `conntrack -D -p udp -s 10.42.0.9 -d 10.96.0.10 --sport 4000
        // --dport 53` sends (captured with strace; it adds the reply tuple and status, which the
        // kernel does not need to find the entry).
        #expect(NFTMessageTests.hex(buffer.bytes) == "48000000" + "02010100" + "07000000" + "00000000" + "02000000"
            + "34000180" + "14000180" + "08000100" + "0a2a0009" + "08000200" + "0a60000a"
            + "1c000280" + "05000100" + "11000000" + "06000200" + "0fa00000" + "06000300" + "00350000")
        // The dump answer for the same flow parses back to the entry.
        var answer = NetlinkBuffer()
        answer.nest(ConntrackNumbers.tupleOriginal) { tuple in
            tuple.nest(ConntrackNumbers.tupleIP) { $0.put(1, [10, 42, 0, 9]); $0.put(2, [10, 96, 0, 10]) }
            tuple.nest(ConntrackNumbers.tupleProtocol) { $0.put(1, u8: 17); $0.put(2, be16: 4000); $0.put(3, be16: 53) }
        }
        answer.nest(ConntrackNumbers.tupleReply) { tuple in
            tuple.nest(ConntrackNumbers.tupleIP) { $0.put(1, [10, 42, 0, 6]); $0.put(2, [10, 42, 0, 9]) }
            tuple.nest(ConntrackNumbers.tupleProtocol) { $0.put(1, u8: 17); $0.put(2, be16: 53); $0.put(3, be16: 4000) }
        }
        #expect(ConntrackCleaner.parse(answer.bytes[...]) == entry)
    }

    @Test func claimChangesStayApartUntilApplied() {
        let web = ServiceName(namespace: "default", name: "web"), api = ServiceName(namespace: "default", name: "api")
        let port = ElementKey.nodePort(.serviceNodePorts, .tcp, 30080), ip = ElementKey.clusterIP(IPv4Address("10.96.0.10")!)
        var index = [port: web]
        var changes = ClaimChanges(index)
        #expect(changes[port] == web && changes[ip] == nil && !changes.releasesKeys)
        changes[ip] = api
        #expect(changes[ip] == api && index[ip] == nil)
        changes[port] = nil
        #expect(changes[port] == nil && changes.releasesKeys && index[port] == web)
        changes.apply(to: &index)
        #expect(index == [ip: api])
    }

    @Test func chainNamesAreReadableHashedAndRecognisable() {
        let names = ChainNames(service: Self.name, port: ServicePortInfo(name: "http", proto: .tcp, port: 80, nodePort: nil))
        #expect(names.cluster.hasPrefix("service-") && names.cluster.hasSuffix("-default/web/tcp/http"))
        #expect(names.cluster.count == "service-".count + 9 + "default/web/tcp/http".count)
        #expect(ChainNames.isServiceChain(names.external) && !ChainNames.isServiceChain("services"))
        let endpoint = EndpointInfo(address: IPv4Address("10.42.0.5")!, port: 8080, ready: true, serving: true, terminating: false, isLocal: true)
        #expect(names.endpoint(endpoint).hasSuffix("-default/web/tcp/http__10.42.0.5/8080"))
        #expect(ChainNames.isAffinitySet(names.affinitySet(endpoint, timeout: 10)))
        // The longest possible name still fits nftables' 256 bytes.
        let long = ChainNames(service: ServiceName(namespace: String(repeating: "n", count: 63), name: String(repeating: "s", count: 63)),
                              port: ServicePortInfo(name: String(repeating: "p", count: 63), proto: .sctp, port: 65535, nodePort: nil))
        let far = EndpointInfo(address: IPv4Address("255.255.255.254")!, port: 65535, ready: true, serving: true, terminating: false, isLocal: false)
        #expect(long.affinitySet(far, timeout: 86400).utf8.count < 256)
    }
}
