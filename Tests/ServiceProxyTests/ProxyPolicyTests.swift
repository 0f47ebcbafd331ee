import Foundation
import Glibc
import KubeAPI
import Testing
import TestSupport
@testable import ServiceProxy

/// Root-only: the behaviours Services promise, with real traffic (see ProxyLab): refusal
/// without endpoints, session affinity, the two Local traffic policies, terminating endpoints
/// as a last resort, and UDP flows moving when their endpoint goes.
@Suite("Service proxy policies (root)", .serialized, .ownThreads, .requires(getuid() == 0, "needs root"))
struct ProxyPolicyTests {
    typealias World = ProxyTrafficTests.World

    @Test func aServiceWithoutEndpointsRefusesConnectionsAtOnce() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let proxy = try lab.proxy(for: world.node1)
        let empty = Objects.service("empty", clusterIP: "10.96.0.30", ports: [Objects.port(80, nodePort: 30090)], type: "NodePort")
        let notReady = Objects.slice("empty-1", service: "empty", ports: [Objects.slicePort(8080)],
                                     endpoints: [Objects.endpoint(world.a, ready: false)])
        let dns = Objects.service("dns", clusterIP: "10.96.0.53", ports: [Objects.port(53, protocol: "UDP", targetPort: 5353)])
        await proxy.replaceAll(services: [ProxyTrafficTests.web, empty, dns], slices: [ProxyTrafficTests.webSlice(world), notReady])
        try await proxy.sync()

        // curl's exit 7 is "Failed to connect" (refused); a timeout would be 28.
        for (from, url) in [(world.client.netPath, "http://10.96.0.30/"), (world.node1.host.netPath, "http://10.96.0.30/"),
                            (world.outside.netPath, "http://192.168.77.1:30090/"),
                            (world.client.netPath, "http://10.96.0.10:81/")] {  // a port the service does not have
            let answer = lab.get(from: from, url)
            #expect(answer.status == 7, "\(url) from \(from): \(answer)")
        }
        #expect(lab.udp(from: world.client.netPath, to: "10.96.0.53", port: 53, sourcePort: 40001) == "refused")
        // An address of the service range that no service has is dropped.
        #expect(lab.get(from: world.client.netPath, "http://10.96.0.99/", timeout: 1).status == 28)
        // The service served normally once an endpoint is ready.
        await proxy.update(slice: Objects.slice("empty-1", service: "empty", ports: [Objects.slicePort(8080)],
                                                endpoints: [Objects.endpoint(world.a)]))
        let report = try await proxy.sync()
        #expect(!report.full && report.servicesChanged == 1, "\(report)")
        #expect(lab.get(from: world.client.netPath, "http://10.96.0.30/").output.hasPrefix("a "))
        #expect(lab.get(from: world.outside.netPath, "http://192.168.77.1:30090/").output.hasPrefix("a "))
    }

    @Test func clientIPAffinityKeepsAClientOnOneEndpoint() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let proxy = try lab.proxy(for: world.node1)
        let sticky = Objects.service("sticky", clusterIP: "10.96.0.40", ports: [Objects.port(80, nodePort: 30040)],
                                     type: "NodePort", affinityTimeout: 60)
        let slice = Objects.slice("sticky-1", service: "sticky", ports: [Objects.slicePort(8080)],
                                  endpoints: [world.a, world.b, world.c].map { Objects.endpoint($0) })
        await proxy.replaceAll(services: [sticky], slices: [slice])
        try await proxy.sync()
        let fromPod = lab.spread(from: world.client.netPath, "http://10.96.0.40/", count: 15)
        #expect(fromPod.count == 1 && fromPod.keys.first?.hasPrefix("!") == false, "\(fromPod)")
        let fromOutside = lab.spread(from: world.outside.netPath, "http://192.168.77.1:30040/", count: 15)
        #expect(fromOutside.count == 1 && fromOutside.keys.first?.hasPrefix("!") == false, "\(fromOutside)")
        // The client is remembered in its endpoint's set, with the service's timeout.
        let table = lab.listTable(world.node1)
        #expect(table.contains("timeout 1m") && table.contains(world.client.ip) && table.contains("192.168.77.100"), "\(table)")

        // Without affinity the same client is spread again: the sets go with it.
        await proxy.update(service: Objects.service("sticky", clusterIP: "10.96.0.40", ports: [Objects.port(80, nodePort: 30040)], type: "NodePort"))
        try await proxy.sync()
        #expect(lab.spread(from: world.client.netPath, "http://10.96.0.40/", count: 30).count > 1)
        #expect(!lab.listTable(world.node1).contains("set affinity-"))
    }

    @Test func externalTrafficPolicyLocalServesOnlyLocalEndpointsAndKeepsTheClientAddress() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let proxy1 = try lab.proxy(for: world.node1), proxy2 = try lab.proxy(for: world.node2)
        let local = Objects.service("local", clusterIP: "10.96.0.50", ports: [Objects.port(80, nodePort: 30050)],
                                    type: "NodePort", externalTrafficPolicy: "Local")
        let remote = Objects.service("remote", clusterIP: "10.96.0.51", ports: [Objects.port(80, nodePort: 30051)],
                                     type: "NodePort", externalTrafficPolicy: "Local")
        let slices = [
            Objects.slice("local-1", service: "local", ports: [Objects.slicePort(8080)], endpoints: [Objects.endpoint(world.a), Objects.endpoint(world.c)]),
            Objects.slice("remote-1", service: "remote", ports: [Objects.slicePort(8080)], endpoints: [Objects.endpoint(world.c)]),
        ]
        for proxy in [proxy1, proxy2] {
            await proxy.replaceAll(services: [local, remote], slices: slices)
            try await proxy.sync()
        }
        let viaNode1 = (0..<10).map { _ in lab.get(from: world.outside.netPath, "http://192.168.77.1:30050/").output }
        #expect(viaNode1.allSatisfy { $0 == "a 192.168.77.100" }, "\(viaNode1)")
        let viaNode2 = (0..<10).map { _ in lab.get(from: world.outside.netPath, "http://192.168.77.2:30050/").output }
        #expect(viaNode2.allSatisfy { $0 == "c 192.168.77.100" }, "\(viaNode2)")
        // No endpoint on node 1: traffic from outside is dropped there, served by node 2.
        #expect(lab.get(from: world.outside.netPath, "http://192.168.77.1:30051/", timeout: 1).status == 28)
        #expect(lab.get(from: world.outside.netPath, "http://192.168.77.2:30051/").output == "c 192.168.77.100")
        // Pods and the node itself still reach every endpoint through the node port.
        #expect(lab.get(from: world.client.netPath, "http://192.168.77.1:30051/").output.hasPrefix("c "))
        #expect(lab.get(from: world.node1.host.netPath, "http://192.168.77.1:30051/").output.hasPrefix("c "))
        #expect(lab.spread(from: world.client.netPath, "http://10.96.0.50/", count: 20).keys.sorted() == ["a", "c"])
    }

    @Test func internalTrafficPolicyLocalKeepsClusterTrafficOnTheNode() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let proxy = try lab.proxy(for: world.node1)
        let local = Objects.service("itl", clusterIP: "10.96.0.60", ports: [Objects.port(80)], internalTrafficPolicy: "Local")
        let remote = Objects.service("itl-remote", clusterIP: "10.96.0.61", ports: [Objects.port(80)], internalTrafficPolicy: "Local")
        let slices = [
            Objects.slice("itl-1", service: "itl", ports: [Objects.slicePort(8080)], endpoints: [Objects.endpoint(world.a), Objects.endpoint(world.c)]),
            Objects.slice("itl-remote-1", service: "itl-remote", ports: [Objects.slicePort(8080)], endpoints: [Objects.endpoint(world.c)]),
        ]
        await proxy.replaceAll(services: [local, remote], slices: slices)
        try await proxy.sync()
        #expect(lab.spread(from: world.client.netPath, "http://10.96.0.60/", count: 15) == ["a": 15])
        // Only endpoints elsewhere: dropped, not sent off the node.
        #expect(lab.get(from: world.client.netPath, "http://10.96.0.61/", timeout: 1).status == 28)
    }

    @Test func terminatingEndpointsServeOnlyWhenNothingIsReady() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let proxy = try lab.proxy(for: world.node1)
        let service = Objects.service("drain", clusterIP: "10.96.0.70", ports: [Objects.port(80)])
        func slice(_ endpoints: [Endpoint]) -> EndpointSlice {
            Objects.slice("drain-1", service: "drain", ports: [Objects.slicePort(8080)], endpoints: endpoints)
        }
        // a is shutting down but still passes readiness; b is shutting down and failing.
        let draining = [Objects.endpoint(world.a, ready: false, serving: true, terminating: true),
                        Objects.endpoint(world.b, ready: false, serving: false, terminating: true)]
        await proxy.replaceAll(services: [service], slices: [slice(draining)])
        try await proxy.sync()
        #expect(lab.spread(from: world.client.netPath, "http://10.96.0.70/", count: 10) == ["a": 10])
        await proxy.update(slice: slice(draining + [Objects.endpoint(world.c)]))
        try await proxy.sync()
        #expect(lab.spread(from: world.client.netPath, "http://10.96.0.70/", count: 10) == ["c": 10])
    }

    @Test func aUDPFlowMovesToTheNewEndpointWhenItsEndpointGoes() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let proxy = try lab.proxy(for: world.node1)
        let dns = Objects.service("dns", clusterIP: "10.96.0.53", ports: [Objects.port(53, protocol: "UDP", nodePort: 30053, targetPort: 5353)],
                                  type: "NodePort")
        func slice(_ pod: ProxyLab.Pod) -> EndpointSlice {
            Objects.slice("dns-1", service: "dns", ports: [Objects.slicePort(5353, protocol: "UDP")], endpoints: [Objects.endpoint(pod)])
        }
        await proxy.replaceAll(services: [dns], slices: [slice(world.a)])
        try await proxy.sync()
        // Fixed source ports: each client is one conntrack entry, as a resolver's would be.
        #expect(lab.udp(from: world.client.netPath, to: "10.96.0.53", port: 53, sourcePort: 40000).hasPrefix("a "))
        #expect(lab.udp(from: world.outside.netPath, to: "192.168.77.1", port: 30053, sourcePort: 40000).hasPrefix("a "))
        #expect(lab.udp(from: world.client.netPath, to: "10.96.0.53", port: 53, sourcePort: 40000).hasPrefix("a "))

        // a keeps running: only the conntrack clean-up can move these flows to b.
        await proxy.update(slice: slice(world.b))
        let report = try await proxy.sync()
        #expect(report.conntrackEntriesDeleted == 2, "\(report)")
        #expect(lab.udp(from: world.client.netPath, to: "10.96.0.53", port: 53, sourcePort: 40000).hasPrefix("b "))
        #expect(lab.udp(from: world.outside.netPath, to: "192.168.77.1", port: 30053, sourcePort: 40000).hasPrefix("b "))
        let entries = lab.sh("nsenter --net=\(world.node1.host.netPath) conntrack -L -p udp 2>/dev/null").output
        #expect(!entries.contains("src=\(world.a.ip)"), "\(entries)")
    }
}
