import Testing
@testable import NodeNetwork

@Suite("addresses, rules and names")
struct AddressingTests {
    @Test func ipv4AddressesParseStrictly() {
        #expect(IPv4Address("10.42.0.1")?.value == 0x0a2a_0001)
        #expect(IPv4Address("255.255.255.255")?.description == "255.255.255.255")
        for bad in ["10.42.0", "10.42.0.256", "10.42.0.01", "10.42..1", " 10.42.0.1", "a.b.c.d", "1.2.3.4.5"] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
        #expect(IPv4Address(bytes: [192, 168, 1, 2]).description == "192.168.1.2")
    }

    @Test func subnetsKnowTheirRange() throws {
        let pods = try #require(IPv4Subnet("10.42.3.0/24"))
        #expect(pods.address(at: 1).description == "10.42.3.1")
        #expect(pods.broadcast.description == "10.42.3.255")
        #expect(try #require(IPv4Subnet("10.42.0.0/16")).contains(pods))
        #expect(!pods.contains(try #require(IPv4Subnet("10.42.0.0/16"))))
        #expect(IPv4Subnet("10.42.0.1/24") == nil) // host bits set
        #expect(IPv4Subnet("10.42.0.0/33") == nil)
        #expect(IPv4Subnet("0.0.0.0/0")?.contains(IPv4Address(0xffff_ffff)) == true)
    }

    @Test func vethNamesFitTheKernelAndDependOnlyOnTheUID() {
        let name = BridgeNetwork.hostVethName(podUID: "6f1c0e0a-2b3c-4d5e-8f90-123456789abc")
        #expect(name.count == 15 && name.hasPrefix("swl"))
        #expect(name == BridgeNetwork.hostVethName(podUID: "6f1c0e0a-2b3c-4d5e-8f90-123456789abc"))
        #expect(name != BridgeNetwork.hostVethName(podUID: "6f1c0e0a-2b3c-4d5e-8f90-123456789abd"))
    }

    @Test func hostPortsBecomeMapElementsAndRecordsRoundTrip() throws {
        let pod = try #require(IPv4Address("10.42.0.5"))
        let any = try #require(try HostPortRule(HostPortMapping(hostPort: 8080, containerPort: 80), podIP: pod))
        let udp = try #require(try HostPortRule(HostPortMapping(hostPort: 53, containerPort: 5353, proto: "UDP",
                                                                hostIP: "192.168.1.5"), podIP: pod))
        #expect(NodeRuleset.add([any, udp]) ==
            "add element ip swiftlet hostports { tcp . 8080 : 10.42.0.5 . 80 }\n"
            + "add element ip swiftlet hostports-by-ip { 192.168.1.5 . udp . 53 : 10.42.0.5 . 5353 }\n")
        #expect(NodeRuleset.remove([any]) ==
            "add element ip swiftlet hostports { tcp . 8080 : 10.42.0.5 . 80 }\n"
            + "delete element ip swiftlet hostports { tcp . 8080 }\n")
        #expect(HostPortRule(line: any.line) == any)
        #expect(HostPortRule(line: udp.line) == udp)
        #expect(HostPortRule(line: "tcp 8080 nonsense 80 -") == nil)
        // hostPort 0 is "not published"; a bad protocol or hostIP is refused.
        #expect(try HostPortRule(HostPortMapping(hostPort: 0, containerPort: 80), podIP: pod) == nil)
        #expect(throws: NetworkError.self) { try HostPortRule(HostPortMapping(hostPort: 1, containerPort: 1, proto: "ICMP"), podIP: pod) }
        #expect(throws: NetworkError.self) { try HostPortRule(HostPortMapping(hostPort: 1, containerPort: 1, hostIP: "::1"), podIP: pod) }
        #expect(try HostPortRule(HostPortMapping(hostPort: 1, containerPort: 1, hostIP: "0.0.0.0"), podIP: pod)?.hostIP == nil)
    }

    @Test func theNodeTableMasqueradesOnlyTrafficLeavingTheCluster() throws {
        let text = NodeRuleset.ensure(podCIDR: try #require(IPv4Subnet("10.42.3.0/24")),
                                      clusterCIDR: try #require(IPv4Subnet("10.42.0.0/16")))
        #expect(text.contains("add rule ip swiftlet postrouting ip saddr 10.42.3.0/24 ip daddr != 10.42.0.0/16 masquerade\n"))
        #expect(text.contains("ip saddr 10.42.3.0/24 ip daddr 10.42.3.0/24 ct status dnat masquerade"))
        // The hostPort maps are created, never flushed: pods keep their ports across restarts.
        #expect(!text.contains("flush map"))
        #expect(text.hasPrefix("add table ip swiftlet\n"))
    }
}
