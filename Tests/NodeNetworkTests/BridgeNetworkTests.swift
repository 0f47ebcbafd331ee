import Foundation
import Glibc
import Testing
import TestSupport
@testable import NodeNetwork

/// Root-only integration tests: real bridges, veths, routes and nftables inside network
/// namespaces the tests create (each "node" and the "outside" host is one), pods in real
/// Runtime sandboxes, traffic with busybox. The host's own network is never touched, and each
/// lab removes what it made even when a test fails.
@Suite("Bridge network on real namespaces (root)", .serialized, .ownThreads, .requires(getuid() == 0, "needs root"))
struct BridgeNetworkTests {
    /// `busybox ping` from inside a pod's namespace.
    func ping(_ lab: NetworkLab, from pod: NetworkLab.Pod, _ address: String) -> (status: Int32, output: String) {
        lab.sh("nsenter --net=\(pod.netPath) timeout 5 busybox ping -c1 -W2 \(address)")
    }

    @Test func twoPodsOnOneNodeReachEachOtherAndTearDownLeavesNothing() throws {
        let lab = try NetworkLab()
        let node = try lab.namespace("node")
        let network = try lab.network(node: node)
        try network.ensureNode()
        let a = try lab.pod("a"), b = try lab.pod("b")
        let statusA = try network.setUp(podUID: a.uid, netns: a.netns, hostPorts: [])
        let statusB = try network.setUp(podUID: b.uid, netns: b.netns, hostPorts: [])
        #expect(statusA == PodNetworkStatus(ips: ["10.42.0.2"], gateway: "10.42.0.1", interface: "eth0"))
        #expect(statusB.ips == ["10.42.0.3"])

        let result = ping(lab, from: a, "10.42.0.3")
        #expect(result.status == 0, "\(result.output)")
        // Inside the pod: eth0 with the address and MTU, a default route via the bridge.
        let addr = lab.sh("nsenter --net=\(a.netPath) ip -o -4 addr show dev eth0").output
        #expect(addr.contains("inet 10.42.0.2/24"), "\(addr)")
        let route = lab.sh("nsenter --net=\(a.netPath) ip route show default").output
        #expect(route.contains("default via 10.42.0.1 dev eth0"), "\(route)")
        let veth = BridgeNetwork.hostVethName(podUID: a.uid)
        let link = lab.sh("ip -n \(node.name) -o link show \(veth)").output
        #expect(link.contains("master swiftlet0") && link.contains("mtu 1500") && link.contains("UP"), "\(link)")
        // One queue each way on both ends (no RCU wait under RTNL to cut them down at creation).
        let details = lab.sh("ip -d -n \(node.name) -o link show \(veth)").output
        #expect(details.contains("numtxqueues 1 numrxqueues 1"), "\(details)")
        let inside = lab.sh("nsenter --net=\(a.netPath) ip -d -o link show eth0").output
        #expect(inside.contains("numtxqueues 1 numrxqueues 1"), "\(inside)")
        #expect(try network.allocations() == [a.uid: "10.42.0.2", b.uid: "10.42.0.3"])

        try network.tearDown(podUID: a.uid)
        try network.tearDown(podUID: a.uid) // idempotent
        #expect(lab.sh("ip -n \(node.name) link show \(veth)").status != 0, "the host veth remains")
        #expect(lab.sh("nsenter --net=\(a.netPath) ip link show eth0").status != 0, "eth0 remains in the pod")
        #expect(!FileManager.default.fileExists(atPath: network.config.stateDirectory + "/ipam/10.42.0.2"))
        #expect(try network.allocations() == [b.uid: "10.42.0.3"])
        #expect(ping(lab, from: b, "10.42.0.2").status != 0)
    }

    @Test func aPodReachesTheOutsideThroughMasqueradeAsTheNodeAddress() throws {
        let lab = try NetworkLab()
        let node = try lab.namespace("node"), outside = try lab.namespace("out")
        // The outside host has no route to 10.42.0.0/16: only a masqueraded packet gets an answer.
        try lab.wire(node.name, "192.168.77.1/24", outside.name, "192.168.77.2/24")
        let network = try lab.network(node: node)
        try network.ensureNode()
        let pod = try lab.pod("client")
        _ = try network.setUp(podUID: pod.uid, netns: pod.netns, hostPorts: [])
        #expect(lab.sh("cat /proc/sys/net/ipv4/ip_forward; nsenter --net=/run/netns/\(node.name) cat /proc/sys/net/ipv4/ip_forward")
            .output.hasSuffix("1\n"))

        // A tiny HTTP server on the outside that answers with the address it sees.
        try lab.background("""
            nsenter --net=/run/netns/\(outside.name) python3 -c 'import socket
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 9000)); s.listen(8)
            while True:
                c, peer = s.accept(); c.recv(4096); c.sendall(("HTTP/1.0 200 OK\\r\\n\\r\\n" + peer[0] + "\\n").encode()); c.close()'
            """)
        let seen = lab.eventually("nsenter --net=\(pod.netPath) timeout 5 busybox wget -qO- http://192.168.77.2:9000/")
        #expect(seen.status == 0, "\(seen.output)")
        #expect(seen.output == "192.168.77.1\n", "the outside saw \(seen.output)")
        let table = lab.sh("nsenter --net=/run/netns/\(node.name) nft list table ip swiftlet").output
        #expect(table.contains("ip saddr 10.42.0.0/24 ip daddr != 10.42.0.0/16 masquerade"), "\(table)")
    }

    @Test func aHostPortIsReachableAtTheNodeAddressAndGoesAwayWithThePod() throws {
        let lab = try NetworkLab()
        let node = try lab.namespace("node"), outside = try lab.namespace("out")
        try lab.wire(node.name, "192.168.77.1/24", outside.name, "192.168.77.2/24")
        // With br_netfilter on (this host's default), conntrack sees bridged replies and a
        // hairpin works by luck; off, only our hairpin masquerade makes it work.
        lab.sh("nsenter --net=/run/netns/\(node.name) sh -c 'echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables'")
        let network = try lab.network(node: node)
        try network.ensureNode()
        let web = try lab.pod("web"), other = try lab.pod("other")
        let ports = [HostPortMapping(hostPort: 8080, containerPort: 80, proto: "TCP")]
        _ = try network.setUp(podUID: web.uid, netns: web.netns, hostPorts: ports)
        _ = try network.setUp(podUID: other.uid, netns: other.netns, hostPorts: [])
        try "hello from the pod\n".write(toFile: lab.root + "/index.html", atomically: true, encoding: .utf8)
        try lab.background("nsenter --net=\(web.netPath) busybox httpd -f -p 80 -h \(lab.root)")

        // From the outside host, from the node itself, and from another pod on the node (hairpin).
        let fromOutside = lab.eventually("nsenter --net=/run/netns/\(outside.name) timeout 5 busybox wget -qO- http://192.168.77.1:8080/")
        #expect(fromOutside.output == "hello from the pod\n", "\(fromOutside.output)")
        let fromNode = lab.sh("nsenter --net=/run/netns/\(node.name) timeout 5 busybox wget -qO- http://192.168.77.1:8080/")
        #expect(fromNode.output == "hello from the pod\n", "\(fromNode.output)")
        let hairpin = lab.sh("nsenter --net=\(other.netPath) timeout 5 busybox wget -qO- http://192.168.77.1:8080/")
        #expect(hairpin.output == "hello from the pod\n", "\(hairpin.output)")

        // A second pod asking for the same port is refused, and keeps nothing.
        let late = try lab.pod("late")
        #expect {
            _ = try network.setUp(podUID: late.uid, netns: late.netns, hostPorts: ports)
        } throws: { error in
            "\(error)".contains("hostPort 8080/TCP: already published by another pod on this node")
        }
        #expect(try network.allocations()[late.uid] == nil)
        #expect(lab.sh("ip -n \(node.name) link show \(BridgeNetwork.hostVethName(podUID: late.uid))").status != 0)

        try network.tearDown(podUID: web.uid)
        let map = lab.sh("nsenter --net=/run/netns/\(node.name) nft list map ip swiftlet hostports").output
        #expect(!map.contains("8080"), "\(map)")
        #expect(!FileManager.default.fileExists(atPath: network.config.stateDirectory + "/hostports/\(web.uid)"))
        #expect(lab.sh("nsenter --net=/run/netns/\(outside.name) timeout 5 busybox wget -qO- http://192.168.77.1:8080/").status != 0)
        // The port is free again.
        let lateIP = try network.setUp(podUID: late.uid, netns: late.netns, hostPorts: ports).ips[0]
        #expect(lab.sh("nsenter --net=/run/netns/\(node.name) nft list map ip swiftlet hostports").output
            .contains("tcp . 8080 : \(lateIP) . 80"))
    }

    @Test func podsOnTwoNodesReachEachOtherThroughSyncedRoutes() throws {
        let lab = try NetworkLab()
        let nodeA = try lab.namespace("na"), nodeB = try lab.namespace("nb")
        try lab.wire(nodeA.name, "192.168.90.1/24", nodeB.name, "192.168.90.2/24")
        let networkA = try lab.network(node: nodeA, podCIDR: "10.42.0.0/24")
        let networkB = try lab.network(node: nodeB, podCIDR: "10.42.1.0/24")
        try networkA.ensureNode()
        try networkB.ensureNode()
        let peers = [NodeRoute(podCIDR: "10.42.0.0/24", nodeIP: "192.168.90.1"),
                     NodeRoute(podCIDR: "10.42.1.0/24", nodeIP: "192.168.90.2")]
        try networkA.syncRoutes(peers)
        try networkB.syncRoutes(peers)
        let a = try lab.pod("a"), b = try lab.pod("b")
        _ = try networkA.setUp(podUID: a.uid, netns: a.netns, hostPorts: [])
        _ = try networkB.setUp(podUID: b.uid, netns: b.netns, hostPorts: [])
        let there = ping(lab, from: a, "10.42.1.2")
        #expect(there.status == 0, "\(there.output)")
        #expect(ping(lab, from: b, "10.42.0.2").status == 0)
        let routes = lab.sh("ip -n \(nodeA.name) route show proto 83").output
        #expect(routes == "10.42.1.0/24 via 192.168.90.2 dev \(routes.split(separator: " ")[4]) \n"
            || routes.hasPrefix("10.42.1.0/24 via 192.168.90.2 dev"), "\(routes)")

        // A route that is not ours survives a sync; ours to a node that left are removed.
        try lab.check("ip -n \(nodeA.name) route add 10.99.0.0/24 via 192.168.90.2 proto static")
        try networkA.syncRoutes([NodeRoute(podCIDR: "10.42.0.0/24", nodeIP: "192.168.90.1")])
        #expect(lab.sh("ip -n \(nodeA.name) route show proto 83").output.isEmpty)
        #expect(lab.sh("ip -n \(nodeA.name) route show 10.99.0.0/24").output.contains("via 192.168.90.2"))
        #expect(ping(lab, from: a, "10.42.1.2").status != 0)

        // A node whose pod CIDR overlaps ours is refused with both named.
        #expect(throws: NetworkError.invalid("node route: pod CIDR 10.42.0.0/16 of 192.168.90.2 overlaps this node's 10.42.0.0/24")) {
            try networkA.syncRoutes([NodeRoute(podCIDR: "10.42.0.0/16", nodeIP: "192.168.90.2")])
        }
    }

    @Test func aRestartedAgentKeepsEveryPodsAddressAndConnectivity() throws {
        let lab = try NetworkLab()
        let node = try lab.namespace("node"), outside = try lab.namespace("out")
        try lab.wire(node.name, "192.168.77.1/24", outside.name, "192.168.77.2/24")
        let state = lab.root + "/state"
        let before = try lab.network(node: node, state: state)
        try before.ensureNode()
        let a = try lab.pod("a"), b = try lab.pod("b")
        let ports = [HostPortMapping(hostPort: 8081, containerPort: 80)]
        let ipA = try before.setUp(podUID: a.uid, netns: a.netns, hostPorts: ports).ips
        let ipB = try before.setUp(podUID: b.uid, netns: b.netns, hostPorts: []).ips

        // The agent restarts: a new instance on the same state directory and node.
        let after = try lab.network(node: node, state: state)
        #expect(try after.allocations() == [a.uid: ipA[0], b.uid: ipB[0]])
        try after.ensureNode()
        #expect(try after.setUp(podUID: a.uid, netns: a.netns, hostPorts: ports).ips == ipA)
        #expect(try after.setUp(podUID: b.uid, netns: b.netns, hostPorts: []).ips == ipB)
        let c = try lab.pod("c")
        #expect(try after.setUp(podUID: c.uid, netns: c.netns, hostPorts: []).ips == ["10.42.0.4"])
        #expect(ping(lab, from: a, ipB[0]).status == 0)
        #expect(ping(lab, from: c, ipA[0]).status == 0)
        // ensureNode kept the hostPort of pod a.
        #expect(lab.sh("nsenter --net=/run/netns/\(node.name) nft list map ip swiftlet hostports").output
            .contains("tcp . 8081 : \(ipA[0]) . 80"))
        // Only the link lines: `ip` also prints "Error: Peer netns reference is invalid." for a
        // veth whose peer namespace another test is tearing down at that moment.
        let bridged = lab.sh("ip -n \(node.name) -o link show master swiftlet0 2>/dev/null").output
        #expect(bridged.split(separator: "\n").filter { $0.contains("master swiftlet0") }.count == 3, "\(bridged)")
    }

    @Test func removeNodeUndoesTheBridgeTableAndRoutes() throws {
        let lab = try NetworkLab()
        let node = try lab.namespace("node"), peer = try lab.namespace("peer")
        try lab.wire(node.name, "192.168.90.1/24", peer.name, "192.168.90.2/24")
        let network = try lab.network(node: node)
        try network.ensureNode()
        try network.ensureNode() // idempotent
        // A node that cannot be reached directly is refused by name; the reachable one is routed anyway.
        #expect {
            try network.syncRoutes([NodeRoute(podCIDR: "10.42.5.0/24", nodeIP: "192.168.90.2"),
                                    NodeRoute(podCIDR: "10.42.6.0/24", nodeIP: "172.31.0.9")])
        } throws: { error in
            "\(error)".hasPrefix("RTM_NEWROUTE 10.42.6.0/24 via 172.31.0.9: ENETUNREACH (Network is unreachable)")
        }
        #expect(lab.sh("ip -n \(node.name) route show proto 83").output.hasPrefix("10.42.5.0/24 via 192.168.90.2"))
        #expect(lab.sh("ip -n \(node.name) -o addr show dev swiftlet0").output.contains("inet 10.42.0.1/24"))
        try network.removeNode()
        try network.removeNode() // idempotent
        #expect(lab.sh("ip -n \(node.name) link show swiftlet0").status != 0)
        #expect(lab.sh("nsenter --net=/run/netns/\(node.name) nft list tables").output.isEmpty)
        #expect(lab.sh("ip -n \(node.name) route show proto 83").output.isEmpty)
    }

    @Test func podsNeedTheNodeAndFailuresNameTheStep() throws {
        let lab = try NetworkLab()
        let node = try lab.namespace("node")
        let network = try lab.network(node: node)
        let pod = try lab.pod("early")
        #expect {
            _ = try network.setUp(podUID: pod.uid, netns: pod.netns, hostPorts: [])
        } throws: { error in
            "\(error)".hasPrefix("bridge swiftlet0 does not exist in the node's network namespace")
        }
        try network.ensureNode()
        // A file that is not a network namespace: the socket for the pod cannot be made there.
        let notNamespace = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(notNamespace) }
        #expect {
            _ = try network.setUp(podUID: pod.uid, netns: notNamespace, hostPorts: [])
        } throws: { error in
            "\(error)" == "setns(CLONE_NEWNET) for pod \(pod.uid): EINVAL (Invalid argument)"
        }
        #expect(try network.allocations().isEmpty)
    }
}
