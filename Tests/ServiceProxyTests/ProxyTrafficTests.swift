import Foundation
import Glibc
import KubeAPI
import Testing
import TestSupport
@testable import ServiceProxy

/// Root-only: real nftables and real traffic between network namespaces the lab makes (see
/// ProxyLab). Each node runs the real NodeNetwork bridge and `ip swiftlet` table beside the
/// proxy's `ip swiftlet-proxy`; clients are curl and Python in pod, node and outside namespaces.
@Suite("Service proxy traffic (root)", .serialized, .ownThreads, .requires(getuid() == 0, "needs root"))
struct ProxyTrafficTests {
    /// Two nodes on one lan, an outside host, three web pods (two on n1, one on n2).
    struct World {
        let lab: ProxyLab
        let node1: ProxyLab.Node, node2: ProxyLab.Node
        let outside: ProxyLab.Host
        let a: ProxyLab.Pod, b: ProxyLab.Pod, c: ProxyLab.Pod
        let client: ProxyLab.Pod
    }

    static func world() throws -> World {
        let lab = try ProxyLab()
        let node1 = try lab.node("n1", address: "192.168.77.1", podCIDR: "10.42.0.0/24")
        let node2 = try lab.node("n2", address: "192.168.77.2", podCIDR: "10.42.1.0/24")
        let outside = try lab.host("out", address: "192.168.77.100")
        try lab.route([node1, node2])
        let a = try lab.pod("a", on: node1, udp: [5353]), b = try lab.pod("b", on: node1, udp: [5353])
        let c = try lab.pod("c", on: node2, udp: [5353])
        let client = try lab.pod("client", on: node1)
        return World(lab: lab, node1: node1, node2: node2, outside: outside, a: a, b: b, c: c, client: client)
    }

    static let web = Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, nodePort: 30080)], type: "NodePort")

    static func webSlice(_ world: World, _ endpoints: [Endpoint]? = nil) -> EndpointSlice {
        Objects.slice("web-1", service: "web", ports: [Objects.slicePort(8080)],
                      endpoints: endpoints ?? [world.a, world.b, world.c].map { Objects.endpoint($0) })
    }

    @Test func clusterIPAndNodePortBalanceOverEveryEndpointFromPodsTheNodeAndOutside() async throws {
        let world = try Self.world()
        let lab = world.lab
        let proxy = try lab.proxy(for: world.node1)
        await proxy.replaceAll(services: [Self.web], slices: [Self.webSlice(world)])
        let report = try await proxy.sync()
        #expect(report.full && report.servicesChanged == 1, "\(report)")

        let fromPod = lab.spread(from: world.client.netPath, "http://10.96.0.10/", count: 30)
        #expect(fromPod.keys.sorted() == ["a", "b", "c"], "from a pod: \(fromPod)")
        let fromNode = lab.spread(from: world.node1.host.netPath, "http://10.96.0.10/", count: 30)
        #expect(fromNode.keys.sorted() == ["a", "b", "c"], "from the node: \(fromNode)")
        let fromOutside = lab.spread(from: world.outside.netPath, "http://192.168.77.1:30080/", count: 30)
        #expect(fromOutside.keys.sorted() == ["a", "b", "c"], "from outside through the node port: \(fromOutside)")
        // A pod reaching the node port of its own node goes through the service too.
        let podToNodePort = lab.spread(from: world.client.netPath, "http://192.168.77.1:30080/", count: 12)
        #expect(podToNodePort["!7"] == nil && podToNodePort.count >= 2, "\(podToNodePort)")

        // Masquerade where the answer must come back through this node: the outside client
        // (Cluster policy) is seen as node 1; a pod keeps its own address for a remote endpoint.
        let seenByC = (0..<30).map { _ in lab.get(from: world.outside.netPath, "http://192.168.77.1:30080/").output }
            .filter { $0.hasPrefix("c ") }
        #expect(!seenByC.isEmpty && seenByC.allSatisfy { $0 == "c 192.168.77.1" }, "\(seenByC)")
        let podSeenByC = (0..<30).map { _ in lab.get(from: world.client.netPath, "http://10.96.0.10/").output }
            .filter { $0.hasPrefix("c ") }
        #expect(!podSeenByC.isEmpty && podSeenByC.allSatisfy { $0 == "c \(world.client.ip)" }, "\(podSeenByC)")

        // The table holds what kube-proxy's would: a verdict-map element, a chain per service
        // port and per endpoint, numgen balancing.
        let table = lab.listTable(world.node1)
        #expect(table.contains("10.96.0.10 . tcp . 80 : goto service-"), "\(table)")
        #expect(table.contains("tcp . 30080 : goto external-"), "\(table)")
        #expect(table.contains("numgen random mod 3 vmap { 0 : goto endpoint-"), "\(table)")
        #expect(table.contains("meta l4proto tcp dnat to \(world.c.ip):8080"), "\(table)")
    }

    /// k3s' ServiceLB semantics: the server puts every node's address in a LoadBalancer's
    /// status, and each node's proxy answers those addresses at the service's own port.
    @Test func aLoadBalancerAnswersOnEveryNodesAddressAtTheServicePort() async throws {
        let world = try Self.world()
        let lab = world.lab
        var lb = Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, nodePort: 30080)], type: "LoadBalancer")
        lb.status = ServiceStatus(loadBalancer: LoadBalancerStatus(ingress: [
            LoadBalancerIngress(ip: "192.168.77.1", ipMode: "VIP"), LoadBalancerIngress(ip: "192.168.77.2", ipMode: "VIP"),
        ]))
        let proxy1 = try lab.proxy(for: world.node1), proxy2 = try lab.proxy(for: world.node2)
        for proxy in [proxy1, proxy2] {
            await proxy.replaceAll(services: [lb], slices: [Self.webSlice(world)])
            _ = try await proxy.sync()
        }
        for node in ["192.168.77.1", "192.168.77.2"] {
            let seen = lab.spread(from: world.outside.netPath, "http://\(node)/", count: 30)
            #expect(seen.keys.sorted() == ["a", "b", "c"], "from outside to \(node):80: \(seen)")
        }
        // The node port still works, and a pod reaches the load-balancer address too.
        #expect(lab.spread(from: world.outside.netPath, "http://192.168.77.2:30080/", count: 12)["!7"] == nil)
        let fromPod = lab.spread(from: world.client.netPath, "http://192.168.77.2/", count: 20)
        #expect(fromPod["!7"] == nil && fromPod.count >= 2, "\(fromPod)")

        // The status emptied (the type changed back, or no node is Ready): the port closes at once.
        var plain = lb
        plain.status = nil
        await proxy1.update(service: plain)
        _ = try await proxy1.sync()
        #expect(lab.get(from: world.outside.netPath, "http://192.168.77.1/").status == 7)
        #expect(lab.spread(from: world.outside.netPath, "http://192.168.77.1:30080/", count: 6)["!7"] == nil)
    }

    /// `loadBalancerSourceRanges`: only the listed sources reach the load-balancer addresses
    /// (dropped before DNAT, as kube-proxy's firewall chain does); node ports and the cluster IP
    /// are not restricted, as upstream.
    @Test func loadBalancerSourceRangesLetOnlyTheirSourcesIn() async throws {
        let world = try Self.world()
        let lab = world.lab
        let stranger = try lab.host("out2", address: "192.168.77.101")
        var lb = Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, nodePort: 30080)], type: "LoadBalancer")
        lb.spec.loadBalancerSourceRanges = ["192.168.77.100/32", " 10.99.0.0/16"]
        lb.status = ServiceStatus(loadBalancer: LoadBalancerStatus(ingress: [LoadBalancerIngress(ip: "192.168.77.1", ipMode: "VIP")]))
        let proxy = try lab.proxy(for: world.node1)
        await proxy.replaceAll(services: [lb], slices: [Self.webSlice(world)])
        _ = try await proxy.sync()

        let allowed = lab.spread(from: world.outside.netPath, "http://192.168.77.1/", count: 10)
        #expect(allowed.keys.allSatisfy { !$0.hasPrefix("!") } && !allowed.isEmpty, "\(allowed)")
        // Dropped, not refused: the stranger's connection times out.
        #expect(lab.get(from: stranger.netPath, "http://192.168.77.1/", timeout: 1).status == 28)
        #expect(lab.get(from: stranger.netPath, "http://192.168.77.1:30080/").status == 0)
        let table = lab.listTable(world.node1)
        #expect(table.contains("192.168.77.1 . tcp . 80 : goto firewall-"), "\(table)")
        #expect(table.contains("ip saddr 192.168.77.100 return"), "\(table)")
        #expect(table.contains("ip saddr 10.99.0.0/16 return"), "\(table)")

        // A range holding the node's address lets the node reach its own load-balancer address.
        lb.spec.loadBalancerSourceRanges = ["192.168.77.0/28"]
        await proxy.update(service: lb)
        _ = try await proxy.sync()
        #expect(lab.get(from: world.node1.host.netPath, "http://192.168.77.1/").status == 0)
        #expect(lab.get(from: world.outside.netPath, "http://192.168.77.1/", timeout: 1).status == 28)

        // Only IPv6 ranges keep every IPv4 client out; no ranges let everyone in again.
        lb.spec.loadBalancerSourceRanges = ["fd00::/8"]
        await proxy.update(service: lb)
        _ = try await proxy.sync()
        #expect(lab.get(from: world.outside.netPath, "http://192.168.77.1/", timeout: 1).status == 28)
        lb.spec.loadBalancerSourceRanges = nil
        await proxy.update(service: lb)
        _ = try await proxy.sync()
        #expect(lab.get(from: stranger.netPath, "http://192.168.77.1/").status == 0)
        #expect(!lab.listTable(world.node1).contains("goto firewall-"))
    }

    @Test(arguments: [false, true])
    func hairpinAPodReachesItselfThroughItsService(bridgeNetfilter: Bool) async throws {
        let world = try Self.world()
        let lab = world.lab
        // With br_netfilter the bridge port's hairpin mode (set by BridgeNetwork) carries it.
        try lab.bridgeNetfilter(world.node1, bridgeNetfilter)
        let proxy = try lab.proxy(for: world.node1)
        let own = Objects.service("own", clusterIP: "10.96.0.20", ports: [Objects.port(80)])
        let slice = Objects.slice("own-1", service: "own", ports: [Objects.slicePort(8080)], endpoints: [Objects.endpoint(world.a)])
        await proxy.replaceAll(services: [own], slices: [slice])
        try await proxy.sync()
        for _ in 0..<5 {
            let answer = lab.get(from: world.a.netPath, "http://10.96.0.20/")
            // The answer comes from a itself, which saw the node (masqueraded), not its own address.
            #expect(answer.status == 0 && answer.output == "a 10.42.0.1", "\(answer)")
        }
        // Another pod of the node reaches it too.
        #expect(lab.get(from: world.b.netPath, "http://10.96.0.20/").output.hasPrefix("a "))
    }
}
