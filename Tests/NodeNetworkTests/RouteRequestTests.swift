import Glibc
import Testing
@testable import NodeNetwork

/// Message bytes against what iproute2 6.1 sends for the same request (captured with
/// `strace -e trace=sendmsg -e write=3 ip ...`, sequence number zeroed). Where our request
/// differs from ip's on purpose (delete by name, GETLINK with an ACK) the bytes are spelled out.
@Suite("rtnetlink message bytes")
struct RouteRequestTests {
    func bytes(_ request: RouteRequest, seq: UInt32 = 0) throws -> String {
        NetlinkBytes.hex(try request.encode(seq: seq))
    }

    @Test func bridgeMatchesIpLinkAddTypeBridge() throws {
        // ip link add swiftlet0 mtu 1500 address 02:53:0a:2a:00:01 type bridge
        #expect(try bytes(.createBridge(name: "swiftlet0", mtu: 1500, mac: [0x02, 0x53, 0x0a, 0x2a, 0x00, 0x01])) ==
            "5400000010000506000000000000000000000000000000000000000000000000"
            + "08000400dc0500000a00010002530a2a000100000e00030073776966746c657430000000"
            + "100012000a0001006272696467650000")
    }

    @Test func vethPeerInNamespaceMatchesIpLinkAddTypeVeth() throws {
        // ip link add swl0123456789ab mtu 1500 master swiftlet0 up numtxqueues 1 numrxqueues 1
        //   type veth peer name eth9 mtu 1500 numtxqueues 1 numrxqueues 1 netns X
        // (ip opened the namespace as fd 4; swiftlet0 had ifindex 2)
        let request = RouteRequest.createVeth(name: "swl0123456789ab", peer: "eth9", peerNetns: 4, master: 2, mtu: 1500, up: true)
        #expect(try bytes(request) ==
            "a400000010000506000000000000000000000000000000000100000001000000"
            + "08000400dc05000008000a000200000008001f000100000008002000010000001400030073776c3031323334353637383961620050001200"
            + "080001007665746844000200400001000000000000000000000000000000000008000400dc05000008001f00010000000800200001000000"
            + "08001c0004000000090003006574683900000000")
    }

    @Test func setLinkMatchesIpLinkSet() throws {
        // ip link set dev swltest mtu 1400 address 02:00:00:00:00:09 master swiftlet0 (ifindex 2, bridge 5)
        #expect(try bytes(.setLink(LinkChange(index: 2, master: 5, mtu: 1400, mac: [2, 0, 0, 0, 0, 9]))) ==
            "3c0000001000050000000000000000000000000002000000000000000000000008000400780500000a000100020000000009000008000a0005000000")
        // ip link set dev swltest nomaster
        #expect(try bytes(.setLink(LinkChange(index: 2, master: 0))) ==
            "280000001000050000000000000000000000000002000000000000000000000008000a0000000000")
        // ip link set swiftlet0 up
        #expect(try bytes(.setLink(LinkChange(index: 5, up: true))) ==
            "2000000010000500000000000000000000000000050000000100000001000000")
    }

    @Test func hairpinMatchesIpLinkSetTypeBridgeSlave() throws {
        // ip link set dev v0 type bridge_slave hairpin on (v0 had ifindex 4)
        #expect(try bytes(.setLink(LinkChange(index: 4, hairpin: true))) ==
            "4000000010000500000000000000000000000000040000000000000000000000"
            + "2000120010000100627269646765" + "5f736c6176650c0005000500040001000000")
    }

    @Test func addressesMatchIpAddrReplaceAndDel() throws {
        // ip addr replace 10.42.0.1/24 dev swiftlet0 (ifindex 5)
        let address = try #require(IPv4Address("10.42.0.1"))
        #expect(try bytes(.replaceAddress(index: 5, address: address, prefixLength: 24)) ==
            "280000001400050500000000000000000218000005000000080002000a2a0001080001000a2a0001")
        // ip addr del 10.42.0.1/24 dev swiftlet0
        #expect(try bytes(.deleteAddress(index: 5, address: address, prefixLength: 24)) ==
            "280000001500050000000000000000000218000005000000080002000a2a0001080001000a2a0001")
    }

    @Test func routesMatchIpRouteReplaceAndDel() throws {
        let peer = Route(destination: try #require(IPv4Subnet("10.42.1.0/24")), gateway: IPv4Address("192.168.90.2"),
                         proto: Route.swiftletProtocol)
        // ip route replace 10.42.1.0/24 via 192.168.90.2 proto 83
        #expect(try bytes(.replaceRoute(peer)) ==
            "2c00000018000505000000000000000002180000fe53000100000000080001000a2a010008000500c0a85a02")
        // ip route del 10.42.1.0/24 via 192.168.90.2 proto 83
        #expect(try bytes(.deleteRoute(peer)) ==
            "2c00000019000500000000000000000002180000fe53ff0000000000080001000a2a010008000500c0a85a02")
        // ip route replace default via 192.168.90.7 dev swiftlet0 (ifindex 5)
        let defaultRoute = Route(destination: Route.defaultDestination, gateway: IPv4Address("192.168.90.7"), outputInterface: 5)
        #expect(try bytes(.replaceRoute(defaultRoute)) ==
            "2c00000018000505000000000000000002000000fe0300010000000008000500c0a85a070800040005000000")
    }

    @Test func deleteAndGetByNameAndDumpAreSpelledOut() throws {
        // RTM_DELLINK (0x11), REQUEST|ACK, seq 7; ifinfomsg with index 0; IFLA_IFNAME "swl1".
        #expect(try bytes(.deleteLink(name: "swl1"), seq: 7) ==
            "2c000000" + "1100" + "0500" + "07000000" + "00000000"
            + "00000000" + "00000000" + "00000000" + "00000000"
            + "0900" + "0300" + "73776c3100000000")
        // RTM_GETLINK (0x12) with an ACK so every non-dump request ends with NLMSG_ERROR.
        #expect(try bytes(.getLink(name: "eth0"), seq: 1) ==
            "2c000000" + "1200" + "0500" + "01000000" + "00000000"
            + "00000000" + "00000000" + "00000000" + "00000000"
            + "0900" + "0300" + "6574683000000000")
        // RTM_GETROUTE (0x1a), REQUEST|DUMP (0x301), rtmsg with family AF_INET only.
        #expect(try bytes(.dumpRoutes, seq: 2) ==
            "1c000000" + "1a00" + "0103" + "02000000" + "00000000" + "020000000000000000000000")
    }

    @Test func sequenceNumberIsWrittenLittleEndian() throws {
        let encoded = try RouteRequest.getLink(name: "lo").encode(seq: 0x0102_0304)
        #expect(Array(encoded[8..<12]) == [4, 3, 2, 1])
    }

    @Test func namesLongerThanTheKernelAllowsAreRefusedWithTheRequestNamed() {
        #expect {
            try RouteRequest.deleteLink(name: "a-name-of-16-chr").encode(seq: 1)
        } throws: { error in
            "\(error)" == "RTM_DELLINK a-name-of-16-chr (encoding): EINVAL (Invalid argument)"
        }
        #expect(throws: NetworkError.self) {
            try RouteRequest.setLink(LinkChange(index: 1, mac: [1, 2, 3])).encode(seq: 1)
        }
    }
}
