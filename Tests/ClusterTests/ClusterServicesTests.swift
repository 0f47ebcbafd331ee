import Foundation
import Testing
import TestSupport

/// Issue 11's story on three machines (a server with its agent and two agents, each in its own
/// network namespace, real kubectl): a NodePort Service answered from outside on every node and
/// spread over its replicas; a front end reaching its backend on another node by Service name,
/// by cluster IP from its environment, and through a headless Service's pod addresses, all
/// through the agents' own cluster DNS and service proxy; replicas leaving the rotation at once.
extension ClusterTests {
    @Test func servicesBalanceAcrossNodesAndResolveByName() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let (server, a, b) = try await startThreeNodes(cluster)
        guard let server, let a, let b else { return }
        let hosts = [server, a, b]

        // The web tier: three replicas (one per node), exposed on a node port.
        try await cluster.kubectlOK(["create", "deployment", "web", "--image=busybox", "--replicas=3", "--",
                                     "sh", "-c", "hostname > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"])
        try await cluster.kubectlOK(["expose", "deployment", "web", "--port=80", "--target-port=8080", "--type=NodePort"])
        let webPods = await waitForRunning(cluster, "app=web", 3)
        let podTable = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(webPods.count == 3, "\(podTable)")
        let nodePort = await cluster.query(["get", "svc", "web", "-o", "jsonpath={.spec.ports[0].nodePort}"])
        let clusterIP = await cluster.query(["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"])
        #expect(Int(nodePort).map { (30000...32767).contains($0) } == true, "node port \(nodePort)")
        #expect(clusterIP.hasPrefix("10.43."), "cluster IP \(clusterIP)")

        // kubectl shows the Service and its endpoints as Kubernetes does.
        let endpointsReady = await TestProcess.waitFor(60) {
            await cluster.query(["get", "endpoints", "web", "-o", "jsonpath={.subsets[*].addresses[*].ip}"])
                .split(separator: " ").count == 3
        }
        let table = try await cluster.kubectlOK(["get", "svc,ep", "web"])
        #expect(endpointsReady, "\(table)")
        #expect(table.contains("service/web") && table.contains("NodePort") && table.contains(clusterIP)
                    && table.contains("80:\(nodePort)/TCP") && table.contains("endpoints/web"), "\(table)")
        for pod in webPods { #expect(table.contains("\(pod.ip):8080"), "\(pod.ip) missing:\n\(table)") }

        // From a host outside the cluster (the lan's router): every node's address answers, and
        // the requests to each spread over all three replicas.
        for host in hosts {
            // Each agent programs its proxy from its own watch of the Services and slices: the
            // API having the endpoints does not mean every node has all of them in its rules yet
            // (kube-proxy converges the same way). So rounds of 30 requests until one reaches
            // every replica; a proxy that does not balance never gets there.
            let pods = Set(webPods.map(\.name))
            var seen: Set<String> = []
            _ = await TestProcess.waitFor(60) {
                var round: Set<String> = []
                for _ in 0..<30 {
                    if let name = await cluster.fromOutside("http://\(host.ip):\(nodePort)/index.html") { round.insert(name) }
                }
                seen = round
                return round == pods
            }
            if seen != pods {
                let rules = await TestProcess.runAsync(TestProcess.inNetns(host.netns, ["/usr/sbin/nft", "list", "ruleset"])).1
                Issue.record("\(host.name):\(nodePort) answered from \(seen), pods \(webPods.map(\.name))\nnft:\n\(rules.suffix(4000))\nlog:\n\(host.log.suffix(4000))")
            }
        }

        // The backend on node-b only, a ClusterIP Service and a headless one in front of it, and a
        // front end on node-a that reaches it three ways and logs what it gets.
        try cluster.writeManifest("api.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: api}
            spec:
              replicas: 2
              selector: {matchLabels: {app: api}}
              template:
                metadata: {labels: {app: api}}
                spec:
                  nodeSelector: {kubernetes.io/hostname: node-b}
                  containers:
                  - name: api
                    image: busybox
                    command: [sh, -c, "echo api-$(hostname) > /tmp/index.html; exec httpd -f -p 9090 -h /tmp"]
                    ports: [{name: http, containerPort: 9090}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: api}
            spec:
              selector: {app: api}
              ports: [{name: http, port: 80, targetPort: http}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: api-pods}
            spec:
              clusterIP: None
              selector: {app: api}
              ports: [{name: http, port: 9090}]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("api.yaml")])
        let apiPods = await waitForRunning(cluster, "app=api", 2)
        #expect(apiPods.count == 2 && apiPods.allSatisfy { $0.node == "node-b" }, "\(apiPods)")
        try cluster.writeManifest("front.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: front}
            spec:
              nodeName: node-a
              containers:
              - name: front
                image: busybox
                command: [sh, -c, "while true; do echo \\"byname $(wget -qO- http://api/index.html)\\"; echo \\"byfqdn $(wget -qO- http://api.default.svc.cluster.local/index.html)\\"; echo \\"byenv $API_SERVICE_HOST $(wget -qO- http://$API_SERVICE_HOST/index.html)\\"; nslookup api-pods | sed -n 's/^Address: /headless /p'; cat /etc/resolv.conf | sed 's/^/resolv /'; sleep 1; done"]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("front.yaml")])
        let apiNames = Set(apiPods.map { "api-" + $0.name })
        var frontLog = ""
        let reached = await TestProcess.waitFor(90) {
            frontLog = await cluster.query(["logs", "front"])
            let lines = frontLog.split(separator: "\n")
            func answered(_ prefix: String) -> Bool {
                lines.contains { $0.hasPrefix(prefix) && apiNames.contains(String($0.split(separator: " ").last ?? "")) }
            }
            let headless = Set(lines.filter { $0.hasPrefix("headless ") }.map { String($0.dropFirst("headless ".count)) })
            return answered("byname ") && answered("byfqdn ") && answered("byenv ") && headless.isSuperset(of: apiPods.map(\.ip))
        }
        let apiIP = await cluster.query(["get", "svc", "api", "-o", "jsonpath={.spec.clusterIP}"])
        #expect(reached, "front's log:\n\(frontLog.suffix(2500))\napi pods: \(apiPods)\nnode-a log:\n\(a.log.suffix(2000))")
        #expect(frontLog.contains("byenv \(apiIP) "), "API_SERVICE_HOST is the api Service's cluster IP \(apiIP)")
        #expect(frontLog.contains("resolv nameserver 10.43.0.10") && frontLog.contains("resolv search default.svc.cluster.local svc.cluster.local cluster.local")
                    && frontLog.contains("resolv options ndots:5"), "front's resolv.conf:\n\(frontLog.suffix(1500))")

        // Scaling down and deleting a pod take replicas out of the rotation at once: a client
        // that retries a failed request once never sees a failure meanwhile.
        // The loop runs from before the scale-down to 10 requests after the deletion (at most
        // 300 s): a fixed 25 s window with a 3 s head start did not always cover both on a
        // loaded machine, nor leave room for 20 answers.
        let progress = TrafficProgress()
        let traffic = Task { () -> (ok: Int, failed: [String]) in
            var ok = 0
            var failed: [String] = []
            let deadline = Date().addingTimeInterval(300)
            var index = 0
            while Date() < deadline, await !progress.stopped {
                let url = "http://\(hosts[index % 3].ip):\(nodePort)/index.html"
                index += 1
                var answered = await cluster.fromOutside(url) != nil
                if !answered { answered = await cluster.fromOutside(url) != nil }
                if answered { ok += 1 } else { failed.append(url) }
                await progress.count()
            }
            return (ok, failed)
        }
        let looping = await TestProcess.waitFor(60) { await progress.requests >= 5 }
        #expect(looping, "the traffic loop never got going")
        try await cluster.kubectlOK(["scale", "deployment", "web", "--replicas=1"])
        let shrunk = await TestProcess.waitFor(60) {
            await cluster.query(["get", "endpoints", "web", "-o", "jsonpath={.subsets[*].addresses[*].ip}"]).split(separator: " ").count == 1
        }
        #expect(shrunk)
        if let remaining = await waitForRunning(cluster, "app=web", 1).first {
            try await cluster.kubectlOK(["delete", "pod", remaining.name, "--wait=false"])
        }
        let atDeletion = await progress.requests
        _ = await TestProcess.waitFor(300) { await progress.requests >= max(atDeletion + 10, 25) }
        await progress.stop()
        let result = await traffic.value
        #expect(result.failed.isEmpty, "\(result.failed.count) of \(result.ok + result.failed.count) requests failed twice: \(result.failed.prefix(5))")
        #expect(result.ok > 20, "only \(result.ok) requests answered")
    }

    /// A server with its own agent and two agents, all Ready (nil hosts when they never were).
    func startThreeNodes(_ cluster: ClusterHarness) async throws -> (ClusterHarness.Host?, ClusterHarness.Host?, ClusterHarness.Host?) {
        let server = try await cluster.addHost("server")
        let a = try await cluster.addHost("node-a")
        let b = try await cluster.addHost("node-b")
        try await cluster.startServer(server, cluster.runtimeArguments(server) + ["--node-name", "server"])
        for host in [a, b] {
            try cluster.startAgent(host)
        }
        let allReady = await TestProcess.waitFor(120) {
            let ready = await cluster.query(["get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type==\"Ready\")].status} {end}"])
            return ready.split(separator: " ").filter { $0.hasSuffix("=True") }.count == 3
        }
        let nodes = await cluster.query(["get", "nodes", "-o", "wide"])
        #expect(allReady, "nodes: \(nodes)\nserver log:\n\(server.log.suffix(3000))\nnode-a log:\n\(a.log.suffix(3000))")
        return allReady ? (server, a, b) : (nil, nil, nil)
    }

    /// The Running pods with `selector` (at least `count` of them, within two minutes).
    func waitForRunning(_ cluster: ClusterHarness, _ selector: String, _ count: Int) async -> [(name: String, node: String, ip: String)] {
        var pods: [(name: String, node: String, ip: String)] = []
        _ = await TestProcess.waitFor(120) {
            pods = await cluster.query(["get", "pods", "-l", selector, "-o",
                                        "jsonpath={range .items[?(@.status.phase==\"Running\")]}{.metadata.name},{.spec.nodeName},{.status.podIP},{.metadata.deletionTimestamp} {end}"])
                .split(separator: " ").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
                .filter { $0.count == 4 && $0[3].isEmpty && !$0[2].isEmpty }.map { ($0[0], $0[1], $0[2]) }
            return pods.count >= count
        }
        return pods
    }
}
