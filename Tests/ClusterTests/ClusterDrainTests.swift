import Foundation
import Testing
import TestSupport

/// Issue 17's `kubectl drain` story on three machines (a server with its agent and two agents,
/// each in its own network namespace, real containers, real kubectl 1.32): a Deployment's pods
/// on node-a, Ready for real, guarded by a PodDisruptionBudget; draining node-a is refused
/// while the budget allows no disruption (kubectl retries the evictions until --timeout), and
/// goes through once the budget is relaxed, the replacement pods becoming Ready on node-b.
extension ClusterTests {
    @Test func drainHonoursAPodDisruptionBudget() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let (server, a, b) = try await startThreeNodes(cluster)
        guard server != nil, a != nil, b != nil else { return }

        // Only node-a takes the pods at first.
        try await cluster.kubectlOK(["cordon", "server", "node-b"])
        try cluster.writeManifest("web.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 3
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
                  volumes: [{name: scratch, emptyDir: {}}]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("web.yaml")])
        let onA = await waitForRunning(cluster, "app=web", 3)
        #expect(onA.count == 3 && onA.allSatisfy { $0.node == "node-a" }, "\(onA)")
        let created = try await cluster.kubectlOK(["create", "pdb", "web", "--selector=app=web", "--min-available=3"])
        #expect(created.contains("poddisruptionbudget.policy/web created"), "\(created)")
        // currentHealthy counts the pods the agent reports Ready.
        var status = ""
        let healthy = await TestProcess.waitFor(60) {
            status = await cluster.query(["get", "pdb", "web", "-o", "jsonpath={.status.currentHealthy}/{.status.desiredHealthy}/{.status.disruptionsAllowed}"])
            return status == "3/3/0"
        }
        #expect(healthy, "\(status)")
        try await cluster.kubectlOK(["uncordon", "node-b"])

        let blocked = try await cluster.kubectl(["drain", "node-a", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=15s"])
        #expect(blocked.status != 0)
        #expect(blocked.output.contains("Cannot evict pod as it would violate the pod's disruption budget."), "\(blocked.output)")
        let still = await waitForRunning(cluster, "app=web", 3)
        #expect(still.allSatisfy { $0.node == "node-a" }, "\(still)")

        try await cluster.kubectlOK(["patch", "pdb", "web", "--type=merge", "-p", #"{"spec":{"minAvailable":2}}"#])
        let drained = try await cluster.kubectl(["drain", "node-a", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=240s"])
        #expect(drained.status == 0 && drained.output.contains("node/node-a drained"), "\(drained.output)")
        var moved: [(name: String, node: String, ip: String)] = []
        let onB = await TestProcess.waitFor(120) {
            moved = await waitForRunning(cluster, "app=web", 3)
            return moved.count == 3 && moved.allSatisfy { $0.node == "node-b" }
        }
        #expect(onB, "\(moved)")
        let unschedulable = await cluster.query(["get", "node", "node-a", "-o", "jsonpath={.spec.unschedulable}"])
        #expect(unschedulable == "true")
        try await cluster.kubectlOK(["uncordon", "node-a", "server"])
    }
}
