import Foundation
import Testing
import TestSupport

/// A ReplicationController's pods run for real on the server's own agent (real kubectl, real
/// containers): two Running pods owned by the RC whose logs say they ran, a scale down to one,
/// and `kubectl delete rc` removing the last pod through the garbage collector.
extension ClusterTests {
    @Test func replicationControllerPodsRunOnTheServersAgent() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let server = try await cluster.addHost("server")
        try await cluster.startServer(server, cluster.runtimeArguments(server) + ["--node-name", "server"])
        let ready = await TestProcess.waitFor(120) {
            await cluster.query(["get", "nodes", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}"]) == "True"
        }
        #expect(ready, "server log:\n\(server.log.suffix(3000))")
        guard ready else { return }

        try cluster.writeManifest("rc.yaml", """
            apiVersion: v1
            kind: ReplicationController
            metadata: {name: echo}
            spec:
              replicas: 2
              template:
                metadata: {labels: {app: echo}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers: [{name: c, image: busybox, command: [sh, -c, "echo running as $(hostname); sleep 3600"]}]
            """)
        try await cluster.kubectlOK(["create", "-f", cluster.manifestPath("rc.yaml")])
        let pods = await waitForRunning(cluster, "app=echo", 2)
        let described = await cluster.query(["describe", "rc", "echo"])
        #expect(pods.count == 2, "\(described)")
        let owners = await cluster.query(["get", "pods", "-l", "app=echo", "-o", "jsonpath={range .items[*]}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {end}"])
        #expect(owners.split(separator: " ") == ["ReplicationController/echo", "ReplicationController/echo"], "\(owners)")
        for pod in pods {
            let logged = await TestProcess.waitFor(60) { await cluster.query(["logs", pod.name]).contains("running as \(pod.name)") }
            let log = await cluster.query(["logs", pod.name])
            #expect(logged, "\(log)")
        }
        let table = await cluster.query(["get", "rc", "echo"])
        #expect(table.split(separator: "\n").last?.split(separator: " ").prefix(4) == ["echo", "2", "2", "2"], "\(table)")

        try await cluster.kubectlOK(["scale", "rc", "echo", "--replicas=1"])
        let scaledDown = await TestProcess.waitFor(120) {
            await cluster.query(["get", "pods", "-l", "app=echo", "-o", "jsonpath={.items[*].metadata.name}"]).split(separator: " ").count == 1
        }
        let afterScale = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(scaledDown, "\(afterScale)")

        try await cluster.kubectlOK(["delete", "rc", "echo"])
        let collected = await TestProcess.waitFor(120) {
            await cluster.query(["get", "pods", "-l", "app=echo", "-o", "name"]).isEmpty
        }
        let afterDelete = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(collected, "\(afterDelete)")
    }
}
