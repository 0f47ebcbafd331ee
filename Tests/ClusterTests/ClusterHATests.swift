import Foundation
import Testing
import TestSupport

/// Issue 19's story on six machines: a three-member etcd cluster (e1-e3), two servers sharing
/// it (s2 joined with s1's token) each with its own agent, and a worker w that joined through
/// s1. s1's machine and an etcd member die at once; w stays Ready on s2 without restarting a
/// pod, s2 takes the controllers' lease and carries out a scale-up on w, every write made
/// through s1 is still there, and the `kubernetes` endpoints drop s1.
extension ClusterTests {
    @Test func twoServersOnEtcdSurviveTheDeathOfOneWithAnEtcdMember() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        var members: [ClusterHarness.Host] = []
        for name in ["e1", "e2", "e3"] { members.append(try await cluster.addHost(name, importImage: false)) }
        let s1 = try await cluster.addHost("s1")
        let s2 = try await cluster.addHost("s2")
        let w = try await cluster.addHost("w")
        try await cluster.startEtcd(members)
        let common = ["--datastore-endpoint", cluster.etcdEndpoints(members), "--node-monitor-grace-period", "12",
                      "--node-monitor-period", "1", "--node-lease-duration-seconds", "4"]
        try await cluster.startServer(s1, cluster.runtimeArguments(s1) + ["--node-name", "s1"] + common)
        let token = try cluster.joinToken()

        // Which server leads: the controllers' lease holder is the identity of one server's
        // apiserver lease. s1, alone at first, must lead before s2 starts.
        func leader() async -> String {
            let holder = await cluster.query(["get", "lease", "-n", "kube-system", "kube-controller-manager", "-o", "jsonpath={.spec.holderIdentity}"])
            guard !holder.isEmpty else { return "" }
            for host in [s1, s2] {
                let identity = await cluster.query(["get", "lease", "-n", "kube-system", "apiserver-\(host.ip)", "-o", "jsonpath={.spec.holderIdentity}"])
                if identity == holder { return host.name }
            }
            return "?" + holder
        }
        let firstLeader = await TestProcess.waitFor(60) { await leader() == "s1" }
        let leaderShown = await leader()
        #expect(firstLeader, "leader: \(leaderShown)\n\(s1.log.suffix(3000))")
        // Writes through s1, before anything fails.
        for index in 0..<20 {
            try await cluster.kubectlOK(["create", "configmap", "acked-\(index)", "--from-literal=n=\(index)"])
        }
        try cluster.startAgent(w, ["--node-lease-duration-seconds", "4"])
        try await cluster.startServer(s2, cluster.runtimeArguments(s2) + ["--node-name", "s2", "--token", token] + common)
        // From here kubectl runs on s2, with the same admin kubeconfig.
        let allReady = await TestProcess.waitFor(90) {
            let ready = await cluster.query(["get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type==\"Ready\")].status} {end}"])
            return Set(ready.split(separator: " ").filter { $0.hasSuffix("=True") }) == ["s1=True", "s2=True", "w=True"]
        }
        let nodesShown = await cluster.query(["get", "nodes", "-o", "wide"])
        #expect(allReady, "\(nodesShown)\ns2:\n\(s2.log.suffix(3000))\nw:\n\(w.log.suffix(3000))")
        guard allReady else { return }
        func endpoints() async -> String {
            await cluster.query(["get", "endpoints", "kubernetes", "-o", "jsonpath={.subsets[*].addresses[*].ip}"])
        }
        let both = await TestProcess.waitFor(60) { await endpoints() == "\(s1.ip) \(s2.ip)" }
        let endpointsShown = await endpoints()
        #expect(both, "kubernetes endpoints: \(endpointsShown)")

        // Two pods on w, started through whichever server w uses.
        try cluster.writeManifest("web.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  nodeSelector: {kubernetes.io/hostname: w}
                  terminationGracePeriodSeconds: 1
                  containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("web.yaml")])
        func pods() async -> [String: String] {
            let text = await cluster.query(["get", "pods", "-l", "app=web", "-o",
                                            "jsonpath={range .items[?(@.status.phase==\"Running\")]}{.metadata.uid}={.status.containerStatuses[0].restartCount} {end}"])
            var result: [String: String] = [:]
            for entry in text.split(separator: " ") {
                let parts = entry.split(separator: "=").map(String.init)
                if parts.count == 2 { result[parts[0]] = parts[1] }
            }
            return result
        }
        let started = await TestProcess.waitFor(120) { await pods().count == 2 }
        let before = await pods()
        let podsShown = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(started, "\(podsShown)")

        // w has learned s2 from the kubernetes endpoints (and saved it for a restart).
        let serversFile = w.dataDir + "/agent/credential/servers"
        let learned = await TestProcess.waitFor(60) {
            ((try? String(contentsOfFile: serversFile, encoding: .utf8)) ?? "").contains(s2.ip)
        }
        #expect(learned, "\((try? String(contentsOfFile: serversFile, encoding: .utf8)) ?? "no \(serversFile)")\n\(w.log.suffix(3000))")

        // s1's machine and etcd member e1 die at once (no FIN, no RST: the namespaces vanish).
        await cluster.killMachine(s1)
        await cluster.killMachine(members[0])

        // For the next 40 s, w is Ready at every look, and s2 takes over the controllers.
        var notReady: [String] = []
        var leaderAfter = ""
        let deadline = Date().addingTimeInterval(40)
        while Date() < deadline {
            let ready = await cluster.query(["get", "node", "w", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"])
            if ready != "True" { notReady.append("\(Int(deadline.timeIntervalSinceNow))s: \(ready)") }
            if leaderAfter != "s2" { leaderAfter = await leader() }
            try await Task.sleep(for: .seconds(2))
        }
        #expect(notReady.isEmpty, "w was not Ready: \(notReady)\nw:\n\(w.log.suffix(4000))")
        #expect(leaderAfter == "s2", "leader after s1 died: \(leaderAfter)\ns2:\n\(s2.log.suffix(3000))")

        // The survivor's controllers act, and w hears of the new pods through s2.
        try await cluster.kubectlOK(["scale", "deployment", "web", "--replicas=4"])
        let scaled = await TestProcess.waitFor(120) { await pods().count == 4 }
        let after = await pods()
        let scaledShown = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(scaled, "\(scaledShown)\nw:\n\(w.log.suffix(3000))")
        for (uid, restarts) in before {
            #expect(after[uid] == restarts && restarts == "0", "pod \(uid) restarted or vanished: \(after)")
        }
        // Every write acknowledged through s1 is there.
        let names = await cluster.query(["get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}"])
        let acked = Set(names.split(separator: " ").map(String.init).filter { $0.hasPrefix("acked-") })
        #expect(acked.count == 20, "\(names)")
        // s1 leaves the kubernetes endpoints, and its node goes NotReady on s2's node lifecycle.
        let dropped = await TestProcess.waitFor(60) { await endpoints() == s2.ip }
        let droppedShown = await endpoints()
        #expect(dropped, "kubernetes endpoints: \(droppedShown)")
        let s1Down = await TestProcess.waitFor(60) {
            await cluster.query(["get", "node", "s1", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]) == "Unknown"
        }
        let downShown = await cluster.query(["get", "nodes"])
        #expect(s1Down, "\(downShown)")
    }
}
