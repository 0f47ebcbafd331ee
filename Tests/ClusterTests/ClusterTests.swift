import Foundation
import Testing
import TestSupport

/// The stories of issue 6 on one machine: a server and two agents, each host in its own
/// network namespace, real `swiftlet` processes, real kubectl (root).
@Suite(.serialized) struct ClusterTests {
    @Test func serverAloneAnswersKubectlOverTheLan() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let server = try cluster.addHost("server")
        try await cluster.startServer(server, ["--disable-agent"])
        let namespaces = try cluster.kubectlOK(["get", "namespaces", "-o", "name"])
        #expect(namespaces.contains("namespace/kube-system"), "\(namespaces)")
    }
}
