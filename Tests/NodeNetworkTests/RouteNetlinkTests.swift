import Glibc
import Testing
@testable import NodeNetwork

/// The netlink client over a recording socket: batching, sequence numbers, reply matching and
/// error parsing, with replies laid out as the kernel sends them.
@Suite("netlink client over a recording socket")
struct RouteNetlinkTests {
    @Test func aBatchGoesOutAsOneDatagramNumberedInOrder() throws {
        let socket = RecordingNetlinkSocket()
        let netlink = RouteNetlink(socket: socket, firstSequence: 40)
        let address = try #require(IPv4Address("10.42.0.7"))
        let replies = try netlink.perform([
            .setLink(LinkChange(name: "lo", up: true)),
            .replaceAddress(index: 2, address: address, prefixLength: 24),
        ])
        #expect(replies == [.ack, .ack])
        #expect(socket.sent.count == 1)
        #expect(socket.sent[0] == (try RouteRequest.setLink(LinkChange(name: "lo", up: true)).encode(seq: 40))
            + (try RouteRequest.replaceAddress(index: 2, address: address, prefixLength: 24).encode(seq: 41)))
        // The next exchange continues the numbering.
        _ = try netlink.perform([.deleteLink(name: "swl1")])
        #expect(socket.sent[1] == (try RouteRequest.deleteLink(name: "swl1").encode(seq: 42)))
    }

    @Test func aRefusalNamesTheRequestErrnoAndKernelText() throws {
        let socket = RecordingNetlinkSocket()
        socket.respond = { message in
            message[4] == 16 ? [NetlinkBytes.ack(for: message, errno: EEXIST, text: "Device already exists")] : nil
        }
        let netlink = RouteNetlink(socket: socket)
        let results = try netlink.performEach([
            .createVeth(name: "swl3f2a", peer: "eth0", peerNetns: 9, master: 3, mtu: 1500, up: true),
            .deleteLink(name: "other"),
        ])
        guard case .failure(let error) = results[0] else {
            Issue.record("expected the veth to fail, got \(results[0])")
            return
        }
        #expect(error.description == "RTM_NEWLINK veth swl3f2a (peer eth0): EEXIST (File exists): Device already exists")
        #expect(error.errno == EEXIST)
        #expect(results[1] == .success(.ack))
        #expect(throws: NetworkError.netlink(request: "RTM_NEWLINK veth swl3f2a (peer eth0)", errno: EEXIST,
                                             message: "Device already exists")) {
            try netlink.perform([.createVeth(name: "swl3f2a", peer: "eth0", peerNetns: 9, master: 3, mtu: 1500, up: true)])
        }
    }

    @Test func anUncappedErrorWithTheWholeRequestEchoedStillYieldsTheText() throws {
        let socket = RecordingNetlinkSocket()
        socket.respond = { [NetlinkBytes.ack(for: $0, errno: ENODEV, text: "Cannot find device", capped: false)] }
        let netlink = RouteNetlink(socket: socket)
        #expect(throws: NetworkError.netlink(request: "RTM_DELLINK swl9", errno: ENODEV, message: "Cannot find device")) {
            try netlink.perform([.deleteLink(name: "swl9")])
        }
    }

    @Test func getLinkReturnsTheParsedLinkAndNilForNoDevice() throws {
        let socket = RecordingNetlinkSocket()
        socket.respond = { request in
            let name = String(decoding: request[36...].prefix(while: { $0 != 0 }), as: UTF8.self)
            guard name == "eth0" else { return [NetlinkBytes.ack(for: request, errno: ENODEV)] }
            // ifinfomsg: family, pad, type 1, index 7, flags UP|BROADCAST (0x1003), change 0.
            let ifinfo: [UInt8] = [0, 0, 1, 0] + NetlinkBytes.le32(7) + NetlinkBytes.le32(0x1003) + NetlinkBytes.le32(0)
            let attributes = NetlinkBytes.attribute(3, Array("eth0".utf8) + [0]) + NetlinkBytes.attribute(4, NetlinkBytes.le32(1450))
                + NetlinkBytes.attribute(10, NetlinkBytes.le32(3))
            let seq = UInt32(request[8]) | UInt32(request[9]) << 8
            return [NetlinkBytes.message(type: NetlinkBytes.newLink, seq: seq, payload: ifinfo + attributes),
                    NetlinkBytes.ack(for: request)]
        }
        let netlink = RouteNetlink(socket: socket)
        #expect(try netlink.link(named: "eth0") == Link(index: 7, name: "eth0", flags: 0x1003, master: 3, mtu: 1450))
        #expect(try netlink.link(named: "eth1") == nil)
    }

    @Test func aRouteDumpIsCollectedUntilDone() throws {
        let socket = RecordingNetlinkSocket()
        let ours = Route(destination: try #require(IPv4Subnet("10.42.1.0/24")), gateway: IPv4Address("192.168.90.2"),
                         proto: Route.swiftletProtocol)
        let connected = Route(destination: try #require(IPv4Subnet("192.168.90.0/24")), outputInterface: 4, proto: 2,
                              scope: 253)
        socket.respond = { request in
            let seq = UInt32(request[8])
            // A dump answer: RTM_NEWROUTE messages flagged MULTI (same layout as a request), then DONE.
            func entry(_ route: Route) -> [UInt8] {
                var bytes = (try? RouteRequest.replaceRoute(route).encode(seq: seq)) ?? []
                bytes[4] = 24; bytes[6] = 2; bytes[7] = 0
                return bytes
            }
            return [entry(ours) + entry(connected),
                    NetlinkBytes.message(type: NetlinkBytes.done, flags: NetlinkBytes.flagMulti, seq: seq, payload: NetlinkBytes.le32(0))]
        }
        let routes = try RouteNetlink(socket: socket).routes()
        #expect(routes == [ours, connected])
    }

    @Test func repliesToAnEarlierExchangeAreIgnored() throws {
        let socket = RecordingNetlinkSocket()
        let netlink = RouteNetlink(socket: socket, firstSequence: 5)
        // An error for seq 4 (say, an abandoned request) arrives before our ACK.
        socket.inject(NetlinkBytes.ack(for: try RouteRequest.deleteLink(name: "x").encode(seq: 4), errno: EPERM))
        #expect(try netlink.perform([.deleteLink(name: "swl1")]) == [.ack])
    }

    @Test func aDumpCannotBeBatched() {
        let netlink = RouteNetlink(socket: RecordingNetlinkSocket())
        #expect(throws: NetworkError.self) { try netlink.perform([.dumpRoutes, .deleteLink(name: "x")]) }
    }
}
