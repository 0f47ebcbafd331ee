import Foundation
import Testing
import TestSupport

/// The stories of issue 6 on one machine: a server and two agents, each host in its own
/// network namespace, real `swiftlet` processes, real kubectl (root).
@Suite(.serialized) struct ClusterTests {
    @Test func serverAloneAnswersKubectlOverTheLan() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let server = try await cluster.addHost("server")
        try await cluster.startServer(server, ["--disable-agent"])
        let namespaces = try await cluster.kubectlOK(["get", "namespaces", "-o", "name"])
        #expect(namespaces.contains("namespace/kube-system"), "\(namespaces)")
    }

    /// A server (with its own agent) and two agents: three Ready nodes, a Deployment spread
    /// over them, replacement, scaling, cross-node pod traffic, logs, and a dead machine.
    @Test func threeNodesRunADeploymentAndSurviveADeadMachine() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let server = try await cluster.addHost("server")
        let a = try await cluster.addHost("node-a")
        let b = try await cluster.addHost("node-b")
        try await cluster.startServer(server, cluster.runtimeArguments(server) + [
            "--node-name", "server", "--node-monitor-grace-period", "6", "--node-monitor-period", "1",
            "--default-toleration-seconds", "4", "--node-lease-duration-seconds", "4",
        ])
        for host in [a, b] {
            try cluster.startAgent(host, ["--node-lease-duration-seconds", "4"])
        }
        let allReady = await TestProcess.waitFor(90) {
            let ready = await cluster.query(["get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type==\"Ready\")].status} {end}"])
            return ready.split(separator: " ").filter { $0.hasSuffix("=True") }.count == 3
        }
        let nodes = await cluster.query(["get", "nodes", "-o", "wide"])
        #expect(allReady, "nodes: \(nodes)\nserver log:\n\(server.log.suffix(3000))\nnode-a log:\n\(a.log.suffix(3000))")
        guard allReady else { return }
        #expect(nodes.contains("control-plane") && nodes.contains("v1.32.0+swiftlet.1") && nodes.contains("swiftlet://"), "\(nodes)")
        for host in [server, a, b] {
            #expect(nodes.contains(host.ip), "\(host.name) reports InternalIP \(host.ip): \(nodes)")
        }
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let capacity = await cluster.query(["get", "node", "node-a", "-o", "jsonpath={.status.capacity.cpu} {.status.capacity.pods} {.status.allocatable.pods}"])
        #expect(capacity == "\(cpus) 110 110")
        let description = try await cluster.kubectlOK(["describe", "node", "server"])
        for section in ["Conditions:", "MemoryPressure", "KubeletReady", "Capacity:", "Allocatable:", "System Info:",
                        "Boot ID:", "Container Runtime Version:  swiftlet://", "PodCIDR:", "Non-terminated Pods:"] {
            #expect(description.contains(section), "describe node lacks \(section):\n\(description)")
        }

        // A Deployment: its pod runs with an address from its node's pod CIDR.
        try await cluster.kubectlOK(["create", "deployment", "web", "--image=busybox", "--",
                               "sh", "-c", "echo serving from $(hostname); echo hello from $(hostname) > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"])
        func runningPods() async -> [(name: String, node: String, ip: String, uid: String)] {
            await cluster.query(["get", "pods", "-l", "app=web", "-o",
                           "jsonpath={range .items[?(@.status.phase==\"Running\")]}{.metadata.name},{.spec.nodeName},{.status.podIP},{.metadata.uid},{.metadata.deletionTimestamp} {end}"])
                .split(separator: " ").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
                .filter { $0.count == 5 && $0[4].isEmpty && !$0[2].isEmpty }.map { ($0[0], $0[1], $0[2], $0[3]) }
        }
        var running = await waitForPods(1, runningPods)
        let shown2 = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(running.count == 1, "\(shown2)\nserver log:\n\(server.log.suffix(3000))")
        guard let first = running.first else { return }
        #expect(first.ip.hasPrefix("10.42."), "pod IP \(first.ip)")
        let logs = try await cluster.kubectlOK(["logs", first.name])
        #expect(logs.contains("serving from \(first.name)"), "\(logs)")

        // Deleting the pod: the ReplicaSet replaces it.
        try await cluster.kubectlOK(["delete", "pod", first.name, "--wait=false"])
        running = await waitForPods(1) { await runningPods().filter { $0.name != first.name } }
        let shown3 = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(running.count == 1, "\(shown3)")

        // Six replicas spread over the three nodes, reachable from each other across nodes.
        try await cluster.kubectlOK(["scale", "deployment", "web", "--replicas=6"])
        running = await waitForPods(6, runningPods)
        #expect(running.count == 6 && Set(running.map(\.node)) == ["server", "node-a", "node-b"], "\(shown3)")
        if let onA = running.first(where: { $0.node == "node-a" }), let onB = running.first(where: { $0.node == "node-b" }) {
            // curl from inside the pod's network namespace (the host's static busybox wget crashes).
            let answer = await TestProcess.runAsync([
                "/usr/bin/nsenter", "--net=\(a.path)/run/pods/\(onA.uid)/ns/net", "/usr/bin/curl", "-s", "--max-time", "5",
                "http://\(onB.ip):8080/index.html",
            ])
            #expect(answer.1.contains("hello from \(onB.name)"), "pod on node-a to \(onB.ip) on node-b: \(answer)")
        }

        // node-b dies: it goes NotReady/Unknown, and its pods come back on the other nodes.
        await cluster.killMachine(b)
        let notReady = await TestProcess.waitFor(60) {
            await cluster.query(["get", "node", "node-b", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]) == "Unknown"
        }
        let shown4 = await cluster.query(["get", "nodes"])
        #expect(notReady, "\(shown4)")
        running = await waitForPods(6) { await runningPods().filter { $0.node != "node-b" } }
        let shown5 = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(running.count == 6, "\(shown5)")
    }

    /// Joining fails fast and clearly on a wrong token or CA, and waits for a server that is
    /// not there yet.
    @Test func joinErrorsAreClearAndAnUnreachableServerIsAwaited() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let server = try await cluster.addHost("server")
        let agent = try await cluster.addHost("agent")
        // The server makes its CA and token, then goes away; the agent starts while it is
        // unreachable, retries, and joins once it is back.
        try await cluster.startServer(server, ["--disable-agent"])
        let token = try cluster.joinToken()
        await cluster.stop(server)
        try cluster.start(agent, ["agent", "--server", "https://\(server.ip):6443", "--token", token,
                                  "--node-name", "agent", "--data-dir", agent.dataDir + "/agent"] + cluster.runtimeArguments(agent))
        let retrying = await TestProcess.waitFor(30) { agent.log.contains("retry") }
        #expect(retrying, "\(agent.log.suffix(2000))")
        try await cluster.startServer(server, ["--disable-agent"])
        let joined = await TestProcess.waitFor(60) { await cluster.query(["get", "nodes", "-o", "name"]).contains("node/agent") }
        #expect(joined, "\(agent.log.suffix(2000))")
        await cluster.stop(agent)

        // A token for another CA: refused before any secret is sent.
        let secret = token.components(separatedBy: "::").last ?? ""
        let wrongCA = "K10" + String(repeating: "0", count: 64) + "::" + secret
        let (status, output) = await TestProcess.runAsync(TestProcess.inNetns(agent.netns, [
            ClusterHarness.binDirectory + "/swiftlet", "agent", "--server", "https://\(server.ip):6443", "--token", wrongCA,
            "--node-name", "other", "--data-dir", agent.path + "/other"] + cluster.runtimeArguments(agent)))
        #expect(status != 0 && output.contains("token CA hash does not match the Cluster CA certificate hash"), "\(output)")
        // The right CA with a wrong secret: 401, no retry loop.
        let wrongSecret = (token.components(separatedBy: "::").first ?? "") + "::server:not-the-secret"
        let (status2, output2) = await TestProcess.runAsync(TestProcess.inNetns(agent.netns, [
            ClusterHarness.binDirectory + "/swiftlet", "agent", "--server", "https://\(server.ip):6443", "--token", wrongSecret,
            "--node-name", "other", "--data-dir", agent.path + "/other"] + cluster.runtimeArguments(agent)))
        #expect(status2 != 0 && output2.lowercased().contains("unauthorized") || output2.contains("401"), "\(output2)")
    }

    /// Pods keep running, unrestarted, across a server restart (with its own agent) and a
    /// restart of another node's agent; a static pod shows up as a mirror pod.
    @Test func podsSurviveAgentAndServerRestarts() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let server = try await cluster.addHost("server")
        let serverArguments = cluster.runtimeArguments(server) + ["--node-name", "server", "--node-lease-duration-seconds", "4",
                                                                  "--pod-manifests", server.path + "/manifests"]
        try """
            apiVersion: v1
            kind: Pod
            metadata: {name: static-web}
            spec:
              containers: [{name: web, image: busybox, command: [sleep, "3600"]}]
            """.write(toFile: server.path + "/manifests/static-web.yaml", atomically: true, encoding: .utf8)
        try await cluster.startServer(server, serverArguments)
        let node = try await cluster.addHost("node-1")
        let nodeArguments = try cluster.agentArguments(node, ["--node-lease-duration-seconds", "4"])
        try cluster.start(node, nodeArguments)
        try await cluster.kubectlOK(["run", "sleeper", "--image=busybox", "--", "sleep", "3600"])
        try await cluster.kubectlOK(["run", "worker", "--image=busybox", "--overrides", #"{"spec":{"nodeName":"node-1"}}"#,
                                     "--", "sleep", "3600"])
        func state() async -> String {
            await cluster.query(["get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name}:{.status.phase}:{.metadata.uid}:{.status.containerStatuses[0].restartCount}:{.status.containerStatuses[0].state.running.startedAt} {end}"])
        }
        let running = await TestProcess.waitFor(60) {
            let now = await state()
            return now.contains("sleeper:Running") && now.contains("worker:Running") && now.contains("static-web-server:Running")
        }
        let shown6 = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(running, "\(shown6)\n\(server.log.suffix(3000))")
        let mirror = await cluster.query(["get", "pod", "static-web-server", "-o", "jsonpath={.metadata.annotations.kubernetes\\.io/config\\.mirror} {.metadata.ownerReferences[0].kind}"])
        #expect(mirror.hasSuffix(" Node") && mirror.count > 10, "mirror pod annotations: \(mirror)")
        let before = await state()

        // The server (and its agent) restarts: same pods, same containers, no restarts.
        await cluster.stop(server)
        try await cluster.startServer(server, serverArguments)
        let settled = await TestProcess.waitFor(30) {
            await cluster.query(["get", "node", "server", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]) == "True"
        }
        #expect(settled)
        try await Task.sleep(for: .seconds(3))
        let afterServer = await state()
        #expect(afterServer == before, "before: \(before)\nafter the server restart:  \(afterServer)")

        // node-1's agent restarts: its pod is adopted, not restarted.
        await cluster.stop(node)
        try cluster.start(node, nodeArguments)
        let back = await TestProcess.waitFor(30) { node.log.contains("joined") && node.log.components(separatedBy: "joined").count > 2 }
        #expect(back, "\(node.log.suffix(2000))")
        try await Task.sleep(for: .seconds(3))
        let afterAgent = await state()
        #expect(afterAgent == before, "before: \(before)\nafter the agent restart:  \(afterAgent)")
    }

    /// A node whose agent stops (the machine is up, its pods still run) goes Unknown, its pods
    /// are evicted and recreated elsewhere; when the agent comes back the node is Ready again
    /// and the evicted pods are stopped and gone from the API.
    @Test func aReturningNodeIsReadyAgainAndItsEvictedPodsAreCleanedUp() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let server = try await cluster.addHost("server")
        let node = try await cluster.addHost("node-1")
        try await cluster.startServer(server, cluster.runtimeArguments(server) + [
            "--node-name", "server", "--node-monitor-grace-period", "6", "--node-monitor-period", "1",
            "--default-toleration-seconds", "2", "--node-lease-duration-seconds", "4",
        ])
        let nodeArguments = try cluster.agentArguments(node, ["--node-lease-duration-seconds", "4"])
        try cluster.start(node, nodeArguments)
        try await cluster.kubectlOK(["create", "deployment", "away", "--image=busybox", "--", "sleep", "3600"])
        try await cluster.kubectlOK(["patch", "deployment", "away", "-p", #"{"spec":{"template":{"spec":{"nodeSelector":{"kubernetes.io/hostname":"node-1"}}}}}"#])
        func podsOnNode1() async -> [String] {
            await cluster.query(["get", "pods", "-l", "app=away", "--field-selector=spec.nodeName=node-1,status.phase=Running",
                                 "-o", "jsonpath={.items[*].metadata.name}"]).split(separator: " ").map(String.init)
        }
        var first: [String] = []
        _ = await TestProcess.waitFor(60) {
            first = await podsOnNode1()
            return first.count == 1
        }
        let shownFirst = await cluster.query(["get", "pods", "-o", "wide"])
        let pod = try #require(first.first, "\(shownFirst)")
        // Only node-1's agent stops; its pod keeps running on the machine.
        await cluster.stop(node)
        let unknown = await TestProcess.waitFor(60) {
            await cluster.query(["get", "node", "node-1", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]) == "Unknown"
        }
        #expect(unknown)
        let evicted = await TestProcess.waitFor(60) {
            await cluster.query(["get", "pod", pod, "-o", "jsonpath={.metadata.deletionTimestamp}"]).isEmpty == false
        }
        let shownEvicted = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(evicted, "\(shownEvicted)")
        // The agent returns: Ready again, and the evicted pod is stopped and deleted.
        try cluster.start(node, nodeArguments)
        let ready = await TestProcess.waitFor(60) {
            await cluster.query(["get", "node", "node-1", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]) == "True"
        }
        #expect(ready, "\(node.log.suffix(2000))")
        let gone = await TestProcess.waitFor(60) {
            await cluster.query(["get", "pods", "-o", "name"]).contains("pod/\(pod)") == false
        }
        let shownGone = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(gone, "\(shownGone)\n\(node.log.suffix(2000))")
        // Its replacement runs on node-1 once the taints are gone.
        let replaced = await TestProcess.waitFor(60) { await podsOnNode1().filter { $0 != pod }.count == 1 }
        let shownReplaced = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(replaced, "\(shownReplaced)")
    }

    /// Waits up to two minutes for `count` pods from `pods`.
    private func waitForPods<T>(_ count: Int, _ pods: () async -> [T]) async -> [T] {
        var last: [T] = []
        _ = await TestProcess.waitFor(120) {
            last = await pods()
            return last.count >= count
        }
        return last
    }
}
