@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Logging
import Testing

@Suite struct NodeIPAMTests {
    private func podCIDR(_ client: InProcessClient, _ node: String) async throws -> String? {
        try await eventually({ try await client.get(.nodes, namespace: nil, name: node)?.string(at: ["spec", "podCIDR"]) },
                             until: { $0 != nil })
    }

    @Test func nodesGetUniqueRangesThatSurviveARestart() async throws {
        try await withTestAPI { api in
            let client = api.client
            let cluster = ControllerTestCluster(api: api)
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            // First controller manager: two nodes.
            let first = Task { await ControllerManager(client: api.client, settings: .forTests, logger: logger).run() }
            try await cluster.addNode("n1")
            try await cluster.addNode("n2")
            let a = try await podCIDR(client, "n1")
            let b = try await podCIDR(client, "n2")
            first.cancel()
            await first.value
            #expect(Set([a, b]) == ["10.42.0.0/24", "10.42.1.0/24"])
            let n1 = try await client.get(.nodes, namespace: nil, name: "n1")
            #expect(n1?.value(at: ["spec", "podCIDRs"]) == .array([.string(a ?? "")]))

            // A restarted one rebuilds what is taken from the Nodes.
            let second = Task { await ControllerManager(client: api.client, settings: .forTests, logger: logger).run() }
            try await cluster.addNode("n3")
            let c = try await podCIDR(client, "n3")
            second.cancel()
            await second.value
            #expect(c == "10.42.2.0/24")
        }
    }

    @Test func anExhaustedClusterCIDRIsReportedOnTheNode() async throws {
        var settings = ControllerSettings.forTests
        settings.clusterCIDR = "10.50.0.0/23"
        settings.nodeCIDRMaskSize = 24
        try await withControllerCluster(settings: settings) { cluster in
            try await cluster.addNode("n1")
            try await cluster.addNode("n2")
            #expect(try await podCIDR(cluster.client, "n1") != nil)
            #expect(try await podCIDR(cluster.client, "n2") != nil)
            try await cluster.addNode("n3")
            let events = try await eventually({ try await cluster.events(about: "n3", reason: "CIDRNotAvailable") }, until: { !$0.isEmpty })
            #expect(events.first?.string(at: ["message"]) == "Node n3 status is now: CIDRNotAvailable")
            #expect(try await cluster.client.get(.nodes, namespace: nil, name: "n3")?.string(at: ["spec", "podCIDR"]) == nil)

            // Deleting a node frees its range for the waiting one.
            let freed = try await cluster.client.get(.nodes, namespace: nil, name: "n1")?.string(at: ["spec", "podCIDR"])
            try await cluster.client.delete(.nodes, namespace: nil, name: "n1")
            #expect(try await podCIDR(cluster.client, "n3") == freed)
        }
    }

    @Test func rangesAreCarvedFromTheClusterCIDR() throws {
        var ranges = try #require(CIDRRanges(clusterCIDR: "10.42.0.0/16", maskSize: 24))
        #expect(ranges.count == 256)
        ranges.occupy("10.42.0.0/24")
        #expect(ranges.allocate() == "10.42.1.0/24")
        let released = ranges.release("10.42.1.0/24")
        #expect(released)
        #expect(ranges.allocate() == "10.42.2.0/24") // round robin: not reused at once
        #expect(CIDRRanges(clusterCIDR: "10.42.0.0/16", maskSize: 8) == nil)
    }
}
