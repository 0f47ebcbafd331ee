@testable import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import ServerTestSupport
import Testing
import TestSupport

/// PodDisruptionBudgets and `kubectl drain` with real kubectl (1.32, 1.27, Debian's 1.20)
/// against the served API and the whole controller manager: `create pdb`, `get pdb`,
/// `describe pdb`, a drain blocked by the budget (kubectl retries the 429s until --timeout)
/// and one that completes once the budget allows it, the Deployment's replacement pods
/// becoming Ready on another node; `uncordon`. A loop plays the nodes' kubelets.
@Suite(.requires(Kubectl.isInstalled, "needs kubectl"))
struct DisruptionKubectlTests {
    static let workloads = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 3
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: c, image: busybox}]
              volumes: [{name: scratch, emptyDir: {}}]
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec: {containers: [{name: c, image: busybox}]}
        """

    /// The value after `key:` in `describe` output (leading spaces ignored).
    private func field(_ describe: String, _ key: String) -> String? {
        for line in describe.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(key + ":") { return trimmed.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    private func webPods(_ cluster: ControllerTestCluster) async throws -> [KubeObject] {
        try await cluster.client.list(.pods, namespace: "default").items.filter { $0.labels["app"] == "web" }
    }

    private func budget(_ cluster: ControllerTestCluster, _ name: String = "web") async throws -> KubeObject? {
        try await cluster.client.get(.podDisruptionBudgets, namespace: "default", name: name)
    }

    @Test func drainIsBlockedThenAllowedByABudget() async throws {
        try await withServedControllerCluster { cluster in
            try await withFakeKubelets(client: cluster.client) {
                let kubectl = try cluster.kubectl()
                try await cluster.addNode("n1")
                let applied = try await kubectl("apply", "-f", "-", input: Self.workloads)
                #expect(applied.status == 0, "\(applied.stderr)")
                _ = try await waitUntil(within: 60, { try await webPods(cluster) }) { pods in
                    pods.count == 3 && pods.allSatisfy { ReplicaSetPods.isReady($0) && $0.string(at: ["spec", "nodeName"]) == "n1" }
                }

                let created = try await kubectl("create", "pdb", "web", "--selector=app=web", "--min-available=3")
                #expect(created.stdout == "poddisruptionbudget.policy/web created\n", "\(created.stderr)")
                _ = try await waitUntil(within: 30, { try await budget(cluster) }) {
                    $0?.value(at: ["status", "currentHealthy"])?.intValue == 3 && $0?.value(at: ["status", "observedGeneration"])?.intValue == 1
                }
                let rows = tableRows(try await kubectl("get", "pdb").stdout)
                #expect(rows.first == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"], "\(rows)")
                #expect(rows.dropFirst().first?.prefix(4) == ["web", "3", "N/A", "0"], "\(rows)")
                let described = try await kubectl("describe", "pdb", "web")
                #expect(field(described.stdout, "Min available") == "3" && field(described.stdout, "Allowed disruptions") == "0"
                        && field(described.stdout, "Selector") == "app=web", "\(described.stdout) \(described.stderr)")

                // Blocked: kubectl cordons, gets 429s and retries them until its timeout.
                try await cluster.addNode("n2")
                let blocked = try await kubectl("drain", "n1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=8s")
                #expect(blocked.status != 0)
                #expect(blocked.stderr.contains("Cannot evict pod as it would violate the pod's disruption budget."), "\(blocked.stdout) \(blocked.stderr)")
                #expect(try await cluster.client.get(.nodes, namespace: nil, name: "n1")?.value(at: ["spec", "unschedulable"])?.boolValue == true)
                #expect(try await webPods(cluster).allSatisfy { $0.deletionTimestamp == nil && $0.string(at: ["spec", "nodeName"]) == "n1" })

                // Relaxed to 2 of 3: one pod at a time goes, its replacement becomes Ready on
                // n2, and the budget allows the next.
                let patched = try await kubectl("patch", "pdb", "web", "--type=merge", "-p", #"{"spec":{"minAvailable":2}}"#)
                #expect(patched.status == 0, "\(patched.stderr)")
                let drained = try await kubectl("drain", "n1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s")
                #expect(drained.status == 0, "\(drained.stdout) \(drained.stderr)")
                #expect(drained.stdout.contains("node/n1 drained"), "\(drained.stdout)")
                #expect(drained.stderr.contains("ignoring DaemonSet-managed Pods: default/agent-"), "\(drained.stderr)")
                let moved = try await eventually(within: 60, { try await webPods(cluster) }) { pods in
                    pods.count == 3 && pods.allSatisfy { ReplicaSetPods.isReady($0) && $0.string(at: ["spec", "nodeName"]) == "n2" }
                }
                #expect(moved.count == 3)
                // The DaemonSet's pod stays on the drained node.
                let agents = try await cluster.client.list(.pods, namespace: "default").items.filter { $0.labels["app"] == "agent" }
                #expect(agents.contains { $0.string(at: ["spec", "nodeName"]) == "n1" && $0.deletionTimestamp == nil })

                let uncordoned = try await kubectl("uncordon", "n1")
                #expect(uncordoned.stdout == "node/n1 uncordoned\n", "\(uncordoned.stderr)")
                #expect(try await cluster.client.get(.nodes, namespace: nil, name: "n1")?.value(at: ["spec", "unschedulable"])?.boolValue != true)
            }
        }
    }

    /// create, describe and drain with an older kubectl: the eviction body it sends (1.20 sends a
    /// policy/v1beta1 Eviction struct labelled with the version discovery named). kubectl 1.20
    /// creates and describes budgets only through policy/v1beta1, which a 1.32 server no longer
    /// serves: as against Kubernetes 1.32, its `create pdb` fails and the budget is applied as v1.
    private func drainWith(_ binary: String, legacyBudgets: Bool = false) async throws {
        try await withServedControllerCluster { cluster in
            try await withFakeKubelets(client: cluster.client) {
                let kubectl = try cluster.kubectl(binary)
                try await cluster.addNode("n1")
                let applied = try await kubectl("apply", "-f", "-", input: Self.workloads)
                #expect(applied.status == 0, "\(applied.stderr)")
                _ = try await waitUntil(within: 60, { try await webPods(cluster) }) { pods in
                    pods.count == 3 && pods.allSatisfy { ReplicaSetPods.isReady($0) }
                }
                let created = try await kubectl("create", "pdb", "web", "--selector=app=web", "--max-unavailable=1")
                if legacyBudgets {
                    #expect(created.status != 0, "\(created.stdout)")
                    let applied = try await kubectl("apply", "-f", "-", input: """
                        apiVersion: policy/v1
                        kind: PodDisruptionBudget
                        metadata: {name: web}
                        spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
                        """)
                    #expect(applied.stdout == "poddisruptionbudget.policy/web created\n", "\(applied.stderr)")
                } else {
                    #expect(created.stdout == "poddisruptionbudget.policy/web created\n", "\(created.stderr)")
                }
                _ = try await waitUntil(within: 30, { try await budget(cluster) }) { $0?.value(at: ["status", "disruptionsAllowed"])?.intValue == 1 }
                if legacyBudgets {
                    let listed = try await kubectl("get", "pdb", "web")
                    #expect(tableRows(listed.stdout).last?.prefix(4) == ["web", "N/A", "1", "1"], "\(listed.stdout) \(listed.stderr)")
                } else {
                    let described = try await kubectl("describe", "pdb", "web")
                    #expect(field(described.stdout, "Max unavailable") == "1" && field(described.stdout, "Allowed disruptions") == "1",
                            "\(described.stdout) \(described.stderr)")
                }
                try await cluster.addNode("n2")
                let drained = try await kubectl("drain", "n1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s")
                #expect(drained.status == 0, "\(drained.stdout) \(drained.stderr)")
                // kubectl 1.20 ends with "node/n1 evicted" (its printer reuses the pods' verb), later ones "node/n1 drained".
                #expect(drained.stdout.contains("evicted") && (drained.stdout.contains("node/n1 drained") || drained.stdout.contains("node/n1 evicted")),
                        "\(drained.stdout)")
                // drain returns once the evictions are done; the last replacement pod may still be
                // waiting for the scheduler (seen under load), so wait for every live pod to be bound.
                let pods = try await waitUntil(within: 60, { try await webPods(cluster).filter { $0.deletionTimestamp == nil } }) { pods in
                    pods.count == 3 && pods.allSatisfy { $0.string(at: ["spec", "nodeName"]) != nil }
                }
                #expect(pods.allSatisfy { $0.string(at: ["spec", "nodeName"]) == "n2" }, "\(pods.map(\.json))")
                let uncordoned = try await kubectl("uncordon", "n1")
                #expect(uncordoned.stdout == "node/n1 uncordoned\n", "\(uncordoned.stderr)")
            }
        }
    }

    @Test func drainWithKubectl127() async throws {
        try await drainWith(Kubectl.binary127)
    }

    @Test func drainWithKubectl120() async throws {
        try await drainWith(try await Kubectl.binary120(), legacyBudgets: true)
    }

    /// `kubectl create pdb` refusals as kube-apiserver words them.
    @Test func createPDBRefusals() async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl()
            let percent = try await kubectl("create", "pdb", "web", "--selector=app=web", "--max-unavailable=150%")
            #expect(percent.status != 0)
            #expect(percent.stderr.contains(#"PodDisruptionBudget.policy "web" is invalid: spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%"#),
                    "\(percent.stderr)")
            let short = try await kubectl("create", "pdb", "short", "--selector=app=web", "--min-available=1", "-o", "name")
            #expect(short.stdout == "poddisruptionbudget.policy/short\n", "\(short.stderr)")
            let byShortName = tableRows(try await kubectl("get", "pdb", "short", "-o", "wide").stdout)
            #expect(byShortName.dropFirst().first?.prefix(3) == ["short", "1", "N/A"], "\(byShortName)")
        }
    }
}

/// `eventually` that fails the test when the condition never held (`eventually` returns the
/// last value either way, for the caller's `#expect`).
private func waitUntil<T: Sendable>(within seconds: Double = 30, _ probe: @Sendable () async throws -> T,
                                  until condition: @Sendable (T) -> Bool,
                                  sourceLocation: SourceLocation = #_sourceLocation) async throws -> T {
    let value = try await eventually(within: seconds, probe, until: condition)
    #expect(condition(value), "never held: \(value)", sourceLocation: sourceLocation)
    return value
}
