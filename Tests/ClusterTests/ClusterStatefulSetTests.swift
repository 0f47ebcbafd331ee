import Foundation
import Testing
import TestSupport

/// A StatefulSet on three machines (real kubectl, real containers, the agents' cluster DNS):
/// pods `web-0`, `web-1` made in order, each with its own hostname, and
/// `web-0.web.default.svc.cluster.local` resolving to web-0's pod IP from web-1, also after
/// web-0 is deleted and comes back under the same name.
extension ClusterTests {
    @Test func statefulSetPodsHaveStableNamesAndDNS() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let (server, a, b) = try await startThreeNodes(cluster)
        guard server != nil, a != nil, b != nil else { return }

        try cluster.writeManifest("web.yaml", """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              clusterIP: None
              selector: {app: web}
              ports: [{port: 80}]
            ---
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: web}
            spec:
              serviceName: web
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: c
                    image: busybox
                    command: [sh, -c, "while true; do echo \\"host $(hostname)\\"; nslookup web-0.web.default.svc.cluster.local | sed -n 's/^Address: /peer /p'; sleep 1; done"]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("web.yaml")])
        let rollout = try await cluster.kubectl(["rollout", "status", "sts/web", "--timeout=180s"])
        #expect(rollout.status == 0 && rollout.output.contains("partitioned roll out complete: 2 new pods have been updated"), "\(rollout.output)")
        let pods = await waitForRunning(cluster, "app=web", 2)
        #expect(pods.map(\.name).sorted() == ["web-0", "web-1"], "\(pods)")
        let table = await cluster.query(["get", "sts", "web"])
        #expect(table.contains("2/2"), "\(table)")

        // web-1 finds web-0 by its stable DNS name; each pod has its own name as hostname.
        func resolvesWeb0(to ip: String) async -> Bool {
            await TestProcess.waitFor(90) {
                await cluster.query(["logs", "web-1", "--tail=20"]).contains("peer \(ip)")
            }
        }
        let web0 = try #require(pods.first { $0.name == "web-0" })
        let resolved = await resolvesWeb0(to: web0.ip)
        let web1Log = await cluster.query(["logs", "web-1", "--tail=20"])
        #expect(resolved, "web-1's log:\n\(web1Log)")
        let web0Log = await cluster.query(["logs", "web-0", "--tail=5"])
        #expect(web0Log.contains("host web-0"), "\(web0Log)")

        // A deleted web-0 comes back as web-0 and its DNS name follows it.
        try await cluster.kubectlOK(["delete", "pod", "web-0"])
        var again: (name: String, node: String, ip: String)?
        _ = await TestProcess.waitFor(120) {
            let running = await waitForRunning(cluster, "app=web", 2)
            again = running.first { $0.name == "web-0" }
            return again != nil && running.count == 2
        }
        let back = try #require(again, "web-0 did not come back")
        let followed = await resolvesWeb0(to: back.ip)
        let laterLog = await cluster.query(["logs", "web-1", "--tail=20"])
        #expect(followed, "web-1's log:\n\(laterLog)")
    }
}
