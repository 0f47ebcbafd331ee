import Foundation
import Glibc
import KubeAPI
import NodeNetwork
import Testing
import TestSupport
@testable import ServiceProxy

/// Root-only: how the table changes over time. Incremental syncs touch only what changed; a
/// new proxy instance takes over the table without a gap; bad input disturbs nothing; other
/// tables are never touched; the run loop follows changes by itself.
@Suite("Service proxy lifecycle (root)", .serialized, .ownThreads, .requires(getuid() == 0, "needs root"))
struct ProxyLifecycleTests {
    static func service(_ name: String, _ ip: String, nodePort: Int32? = nil) -> Service {
        Objects.service(name, clusterIP: ip, ports: [Objects.port(80, nodePort: nodePort)], type: nodePort == nil ? nil : "NodePort")
    }

    static func slice(_ service: String, _ pods: [ProxyLab.Pod]) -> EndpointSlice {
        Objects.slice("\(service)-1", service: service, ports: [Objects.slicePort(8080)], endpoints: pods.map { Objects.endpoint($0) })
    }

    /// `nft -a list chain` lines of one service's chains, with rule handles: a rewritten chain
    /// gets new handles, an untouched one keeps them.
    static func handles(_ lab: ProxyLab, _ node: ProxyLab.Node, service: String) -> [String] {
        var chain = "", rules: [String] = []
        for line in lab.listTable(node, handles: true).split(separator: "\n") {
            if line.hasPrefix("\tchain ") {
                chain = String(line)
            } else if line.hasPrefix("\t\t"), line.contains("# handle"), chain.contains("default/\(service)/") {
                rules.append("\(chain.split(separator: " ")[1]): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        return rules
    }

    @Test func aSyncChangesOnlyTheServiceThatChangedAndRetiresWhatGoes() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let proxy = try lab.proxy(for: world.node1)
        await proxy.replaceAll(services: [Self.service("one", "10.96.1.1"), Self.service("two", "10.96.1.2"), Self.service("three", "10.96.1.3")],
                               slices: [Self.slice("one", [world.a]), Self.slice("two", [world.b]), Self.slice("three", [world.a])])
        try await proxy.sync()
        let oneBefore = Self.handles(lab, world.node1, service: "one"), twoBefore = Self.handles(lab, world.node1, service: "two")
        #expect(oneBefore.count >= 3, "\(oneBefore)")

        await proxy.update(slice: Self.slice("three", [world.c]))
        let report = try await proxy.sync()
        #expect(!report.full && report.servicesChanged == 1, "\(report)")
        // Service chain rewritten (flush + 1 rule + the anonymous map's 2 messages), endpoint
        // chain created and filled (add, flush, 2 rules), the old endpoint chain flushed.
        #expect(report.commands <= 10, "\(report)")
        #expect(Self.handles(lab, world.node1, service: "one") == oneBefore)
        #expect(Self.handles(lab, world.node1, service: "two") == twoBefore)
        #expect(lab.spread(from: world.client.netPath, "http://10.96.1.3/", count: 5) == ["c": 5])
        #expect(lab.get(from: world.client.netPath, "http://10.96.1.1/").output.hasPrefix("a "))

        // A deleted service: its elements go at once (the address is now just part of the
        // range: dropped), its chains are emptied now and deleted a second later.
        await proxy.delete(service: ServiceName(namespace: "default", name: "two"))
        let removal = try await proxy.sync()
        #expect(removal.servicesChanged == 1)
        #expect(lab.get(from: world.client.netPath, "http://10.96.1.2/", timeout: 1).status == 28)
        let emptied = Self.handles(lab, world.node1, service: "two")
        #expect(emptied.isEmpty, "rules left: \(emptied)")
        #expect(lab.listTable(world.node1).contains("default/two/"), "chains are deleted only after the grace period")
        try await Task.sleep(for: .milliseconds(1100))
        let cleanup = try await proxy.sync()
        // three's old endpoint chain (due already at the removal sync on a slow machine), two's
        // service and endpoint chains (retired by that sync, so never deleted by it).
        #expect(removal.chainsDeleted + cleanup.chainsDeleted == 3, "\(removal) / \(cleanup)")
        #expect(cleanup.chainsDeleted >= 2, "\(cleanup)")
        let table = lab.listTable(world.node1)
        #expect(!table.contains("default/two/"), "\(table)")
        #expect(!table.contains("default/three/tcp/__\(world.a.ip)/8080"), "\(table)")
        #expect(await proxy.programmedServices().map(\.name) == ["one", "three"])
    }

    @Test func aNewProxyInstanceTakesOverWithoutATrafficGap() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let services = [Self.service("web", "10.96.2.1", nodePort: 30201), Self.service("gone", "10.96.2.2")]
        let slices = [Self.slice("web", [world.a, world.b, world.c]), Self.slice("gone", [world.b])]
        var first: ServiceProxy? = try lab.proxy(for: world.node1)
        await first?.replaceAll(services: services, slices: slices)
        try await first?.sync()
        let fromPod = try lab.loop(from: world.client.netPath, "http://10.96.2.1/", count: 150, intervalMs: 20)
        let fromOutside = try lab.loop(from: world.outside.netPath, "http://192.168.77.1:30201/", count: 150, intervalMs: 20)
        // The restart comes once both clients are looping (a fixed 700 ms hoped python had
        // started; on a loaded machine it may not have, and the restart would go untested).
        let looping = await TestProcess.waitFor(30) { lab.loopProgress(fromPod) >= 10 && lab.loopProgress(fromOutside) >= 10 }
        #expect(looping, "the client loops did not start")

        // The agent restarts: the old instance goes without touching the table; while it was
        // down "gone" was deleted. The new one starts from the full lists.
        first = nil
        let second = try lab.proxy(for: world.node1)
        await second.replaceAll(services: [services[0]], slices: [slices[0]])
        let report = try await second.sync()
        #expect(report.full, "\(report)")
        let podResult = lab.loopResult(fromPod), outsideResult = lab.loopResult(fromOutside)
        #expect(podResult?.hasPrefix("ok 150 failed 0") == true, "\(String(describing: podResult))")
        #expect(outsideResult?.hasPrefix("ok 150 failed 0") == true, "\(String(describing: outsideResult))")

        // The deleted service's leftovers were found in the kernel and retired.
        #expect(Self.handles(lab, world.node1, service: "gone").isEmpty)
        try await Task.sleep(for: .milliseconds(1100))
        let cleanup = try await second.sync()
        #expect(cleanup.chainsDeleted == 2, "\(cleanup)")
        #expect(!lab.listTable(world.node1).contains("default/gone/"))
        #expect(lab.spread(from: world.client.netPath, "http://10.96.2.1/", count: 20).keys.sorted() == ["a", "b", "c"])
        _ = first
    }

    @Test func badInputIsRefusedAndDisturbsNothingProgrammed() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let proxy = try lab.proxy(for: world.node1)
        let web = Self.service("web", "10.96.3.1", nodePort: 30301)
        await proxy.replaceAll(services: [web], slices: [Self.slice("web", [world.a, world.b])])
        try await proxy.sync()
        let before = lab.listTable(world.node1)

        // Impossible versions of web and of its slice: refused, the last good ones stay.
        await proxy.update(service: Objects.service("web", clusterIP: "10.96.3.1", ports: [Objects.port(0)]))
        await proxy.update(slice: Objects.slice("web-1", service: "web", ports: [Objects.slicePort(8080)],
                                                endpoints: [Objects.endpoint("10.42.0.300", node: "n1"), Objects.endpoint(world.c)]))
        // Other hostile services and slices.
        var injected = Self.service("evil", "10.96.3.9")
        injected.metadata.name = "x\"; flush ruleset; \""
        await proxy.update(service: injected)
        await proxy.update(service: Objects.service("many", clusterIP: "10.96.3.2",
                                                    ports: (1...3000).map { Objects.port(Int32($0), name: "p\($0)") }))
        await proxy.update(service: Objects.service("icmp", clusterIP: "10.96.3.3", ports: [Objects.port(80, protocol: "ICMP")]))
        await proxy.update(service: Objects.service("outside", clusterIP: "192.168.77.1", ports: [Objects.port(80)]))
        await proxy.update(slice: Objects.slice("loop-1", service: "loop", ports: [Objects.slicePort(8080)],
                                                endpoints: [Objects.endpoint("127.0.0.1", node: nil)]))
        // A node port another service holds.
        await proxy.update(service: Self.service("thief", "10.96.3.4", nodePort: 30301))
        await proxy.update(slice: Self.slice("thief", [world.c]))
        let report = try await proxy.sync()
        #expect(report.commands == 0, "\(report)")
        #expect(lab.listTable(world.node1) == before)

        let rejections = await proxy.rejections()
        #expect(rejections.count == 8, "\(rejections)")
        #expect(rejections["Service default/web"]?.contains("spec.ports[0].port 0") == true)
        #expect(rejections["EndpointSlice default/web-1"]?.contains("\"10.42.0.300\": not an IPv4 address") == true)
        #expect(rejections.keys.contains { $0.contains("flush ruleset") && $0.contains("\\\"") })
        #expect(rejections["Service default/many"]?.contains("3000 ports") == true)
        #expect(rejections["Service default/icmp"]?.contains("\"ICMP\"") == true)
        #expect(rejections["Service default/outside"]?.contains("outside the service CIDR") == true)
        #expect(rejections["EndpointSlice default/loop-1"]?.contains("loopback") == true)
        #expect(rejections["Service default/thief"]?.contains("service-nodeports { tcp . 30301 } is already programmed for service default/web") == true)
        #expect(lab.spread(from: world.outside.netPath, "http://192.168.77.1:30301/", count: 15).keys.sorted() == ["a", "b"])

        // Valid versions replace the refusals; the thief gets its port once web lets it go.
        await proxy.update(slice: Self.slice("web", [world.b]))
        await proxy.delete(service: ServiceName(namespace: "default", name: "web"))
        try await proxy.sync()
        try await proxy.sync()  // the conflicted service is retried once the port is free
        #expect(await proxy.rejections()["Service default/thief"] == nil)
        #expect(await proxy.rejections()["EndpointSlice default/web-1"] == nil)
        #expect(lab.get(from: world.outside.netPath, "http://192.168.77.1:30301/").output.hasPrefix("c "))
    }

    @Test func otherTablesAreNeverTouched() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let node = world.node1.host.netPath
        try lab.check("""
            nsenter --net=\(node) nft -f - <<'EOF'
            add table ip foreign
            add set ip foreign addresses { type ipv4_addr; }
            add element ip foreign addresses { 10.96.0.10 }
            add chain ip foreign service-ABCD1234-default/web/tcp/http
            add rule ip foreign service-ABCD1234-default/web/tcp/http counter
            add chain ip foreign input { type filter hook input priority 0; policy accept; }
            add rule ip foreign input ip saddr @addresses counter
            EOF
            """)
        let foreign = lab.sh("nsenter --net=\(node) nft list table ip foreign").output
        let swiftlet = lab.sh("nsenter --net=\(node) nft list table ip swiftlet").output
        let proxy = try lab.proxy(for: world.node1)
        await proxy.replaceAll(services: [ProxyTrafficTests.web], slices: [ProxyTrafficTests.webSlice(world)])
        try await proxy.sync()
        try await proxy.sync(full: true)
        await proxy.delete(service: ServiceName(namespace: "default", name: "web"))
        try await proxy.sync()
        try await proxy.removeAll()
        #expect(lab.sh("nsenter --net=\(node) nft list table ip foreign").output == foreign)
        #expect(lab.sh("nsenter --net=\(node) nft list table ip swiftlet").output == swiftlet)
        #expect(!lab.sh("nsenter --net=\(node) nft list tables").output.contains("swiftlet-proxy"))
        // Pods still reach each other without the proxy (the node network is intact).
        #expect(lab.get(from: world.client.netPath, "http://\(world.a.ip):8080/").output.hasPrefix("a "))
    }

    @Test func theRunLoopProgramsChangesByItself() async throws {
        let world = try ProxyTrafficTests.world()
        let lab = world.lab
        let proxy = try lab.proxy(for: world.node1)
        let runner = Task { await proxy.run(minInterval: .milliseconds(100)) }
        defer { runner.cancel() }
        // Nothing is written before the first full list (a restarted agent must not program
        // an empty picture over a good table).
        try await Task.sleep(for: .milliseconds(700))
        #expect(!lab.sh("nsenter --net=\(world.node1.host.netPath) nft list tables").output.contains("swiftlet-proxy"))
        await proxy.replaceAll(services: [Self.service("auto", "10.96.4.1")], slices: [Self.slice("auto", [world.a])])
        let first = lab.eventually("nsenter --net=\(world.client.netPath) curl -s --max-time 1 http://10.96.4.1/ | grep '^a '")
        #expect(first.status == 0, "\(first.output)")
        await proxy.update(slice: Self.slice("auto", [world.b]))
        let second = lab.eventually("nsenter --net=\(world.client.netPath) curl -s --max-time 1 http://10.96.4.1/ | grep '^b '")
        #expect(second.status == 0, "\(second.output)")
        runner.cancel()
        await runner.value
    }
}
