@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Logging
import Storage
import Testing

@Suite struct NodeLifecycleTests {
    private static var shortGrace: ControllerSettings {
        var settings = ControllerSettings.forTests
        settings.nodeMonitorGracePeriod = .milliseconds(1500)
        return settings
    }

    private func condition(_ node: KubeObject?, _ type: String) -> JSONValue? {
        node?.value(at: ["status", "conditions"])?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    private func taintKeys(_ node: KubeObject?) -> Set<String> {
        Set((node.map(NodeTaint.taints(of:)) ?? []).map { "\($0.key):\($0.effect)" })
    }

    /// What the agent does for a running pod: Running and Ready. The controller may write the
    /// pod between our read and our write (its not-ready mark or an eviction, when a loaded
    /// machine lets the grace period run out first), so a conflict is retried on a fresh copy
    /// as the kubelet's status manager does.
    private func markRunning(_ cluster: ControllerTestCluster, _ name: String) async throws {
        try await writeStatus(cluster, name, phase: "Running", ready: true)
    }

    /// Writes the pod's phase (and a Ready condition) as its kubelet would, retrying conflicts.
    private func writeStatus(_ cluster: ControllerTestCluster, _ name: String, phase: String, ready: Bool) async throws {
        var written = false
        var attempts = 0
        while !written && attempts < 20 {
            written = try await tryWriteStatus(cluster, name, phase: phase, ready: ready)
            attempts += 1
        }
        if !written { Issue.record("pod \(name): status update conflicted 20 times") }
    }

    /// Waits until `name` is being deleted (evicted); whether it was.
    private func evicted(_ cluster: ControllerTestCluster, _ name: String) async throws -> Bool {
        let pod = try await eventually({ try await cluster.pod(name) }, until: { $0?.deletionTimestamp != nil })
        return pod?.deletionTimestamp != nil
    }

    /// One read-modify-write of the pod's status: false on a conflict, other errors thrown.
    private func tryWriteStatus(_ cluster: ControllerTestCluster, _ name: String, phase: String, ready: Bool) async throws -> Bool {
        var pod = try #require(try await cluster.pod(name))
        pod.set(.string(phase), at: ["status", "phase"])
        if ready {
            pod.set(.array([.object(["type": .string("Ready"), "status": .string("True")])]), at: ["status", "conditions"])
        }
        do {
            _ = try await cluster.client.update(.pods, pod, subresource: "status")
            return true
        } catch {
            if error.code == 409 { return false }
            throw error
        }
    }

    @Test func aNodeWhoseLeaseStopsGoesUnknownIsTaintedAndItsPodsAreEvictedAfterTheirToleration() async throws {
        try await withControllerCluster(settings: Self.shortGrace) { cluster in
            let client = cluster.client
            try await cluster.addNode("n1")
            let shortToleration: JSONValue = .object([
                "key": .string("node.kubernetes.io/unreachable"), "operator": .string("Exists"),
                "effect": .string("NoExecute"), "tolerationSeconds": .int(1),
            ])
            // Bound to n1 at creation, not by the scheduler: the 1.5 s grace period starts when
            // the controller first sees n1, and on a loaded machine it could run out before the
            // scheduler's turn, leaving the pods Pending on no node (a CI run saw the patient pod
            // never marked). Whether the pods are marked Running before or after n1 goes Unknown
            // does not matter: the controller marks them on every pass while n1 is not Ready.
            try await cluster.addPod("short", tolerations: [shortToleration], nodeName: "n1")
            try await cluster.addPod("patient", nodeName: "n1") // the default 300 s
            for name in ["short", "patient"] {
                try await markRunning(cluster, name)
            }

            // No lease renewal from here on.
            let unknown = try await eventually({ try await client.get(.nodes, namespace: nil, name: "n1") },
                                               until: { condition($0, "Ready")?["status"]?.stringValue == "Unknown" })
            let ready = condition(unknown, "Ready")
            #expect(ready?["status"]?.stringValue == "Unknown")
            #expect(ready?["reason"]?.stringValue == "NodeStatusUnknown")
            #expect(ready?["message"]?.stringValue == "Kubelet stopped posting node status.")
            #expect(condition(unknown, "MemoryPressure")?["status"]?.stringValue == "Unknown")
            let tainted = try await eventually({ try await client.get(.nodes, namespace: nil, name: "n1") },
                                               until: { taintKeys($0).count == 2 })
            #expect(taintKeys(tainted) == ["node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"])
            #expect(NodeTaint.taints(of: try #require(tainted)).allSatisfy { $0.timeAdded != nil })
            let notReady = try await eventually({ try await cluster.pod("patient") }, until: {
                $0?.value(at: ["status", "conditions"])?.arrayValue?.first?["status"]?.stringValue == "False"
            })
            #expect(notReady?.value(at: ["status", "conditions"])?.arrayValue?.first?["status"]?.stringValue == "False",
                    "patient: \(String(describing: notReady?.value(at: ["status"]))), node: \(String(describing: tainted?.value(at: ["status", "conditions"])))")

            // The 1 s toleration runs out: evicted (gracefully: the node's agent would finish it).
            #expect(try await evicted(cluster, "short"))
            let events = try await cluster.events(about: "short", reason: "TaintManagerEviction")
            #expect(events.first?.string(at: ["message"]) == "Marking for deletion Pod default/short")
            #expect(try await cluster.pod("patient")?.deletionTimestamp == nil)

            // The agent comes back: lease renewed and Ready posted; the taints go.
            try await cluster.renewLease("n1")
            var node = try #require(try await client.get(.nodes, namespace: nil, name: "n1"))
            let now = Time.now().description
            node.set(.array([.object([
                "type": .string("Ready"), "status": .string("True"), "reason": .string("KubeletReady"),
                "lastHeartbeatTime": .string(now), "lastTransitionTime": .string(now),
            ])]), at: ["status", "conditions"])
            _ = try await client.update(.nodes, node, subresource: "status")
            let healed = try await eventually({ try await client.get(.nodes, namespace: nil, name: "n1") }, until: { taintKeys($0).isEmpty })
            #expect(taintKeys(healed).isEmpty)
            #expect(condition(healed, "Ready")?["status"]?.stringValue == "True")
        }
    }

    @Test func notReadyNodesGetNotReadyTaintsAndPodsNotToleratingANoExecuteTaintGoAtOnce() async throws {
        try await withControllerCluster { cluster in
            try await cluster.addNode("sick", ready: "False")
            let tainted = try await eventually({ try await cluster.client.get(.nodes, namespace: nil, name: "sick") },
                                               until: { taintKeys($0).count == 2 })
            #expect(taintKeys(tainted) == ["node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/not-ready:NoExecute"])

            // A NoExecute taint of the user's: a pod not tolerating it goes at once, one
            // tolerating it without tolerationSeconds stays.
            // "forever" is created first, so every pass that sees "intolerant" sees it too.
            try await cluster.addNode("maintained", taints: [NodeTaint(key: "maintenance", value: "now", effect: "NoExecute")])
            try await cluster.addPod("forever", tolerations: [.object(["key": .string("maintenance"), "operator": .string("Exists")])],
                                     nodeName: "maintained")
            try await cluster.addPod("intolerant", nodeName: "maintained")
            #expect(try await evicted(cluster, "intolerant"))
            // "forever" may come after "intolerant" in that pass: a later pod's eviction shows a
            // later pass ran, so the pass that judged both is over (passes run one at a time).
            try await cluster.addPod("intolerant-later", nodeName: "maintained")
            #expect(try await evicted(cluster, "intolerant-later"))
            #expect(try await cluster.pod("forever")?.deletionTimestamp == nil)
            // The user's taint is left alone.
            let maintained = try await cluster.client.get(.nodes, namespace: nil, name: "maintained")
            #expect(taintKeys(maintained) == ["maintenance:NoExecute"])
        }
    }

    @Test func defaultTolerationSecondsAreSettable() async throws {
        let directory = try TemporaryDirectory()
        let storage = try SQLiteStorage(path: directory.path + "/state.db")
        defer { Task { await storage.close() } }
        let service = try APIService(storage: storage, defaultTolerationSeconds: 7)
        try await service.bootstrap()
        let client = InProcessClient(service: service)
        let pod = try await client.create(.pods, namespace: "default", KubeObject(fields: [
            "metadata": .object(["name": .string("p")]),
            "spec": .object(["containers": .array([.object(["name": .string("c"), "image": .string("busybox")])]),
                             "tolerations": .array([.object(["key": .string("node.kubernetes.io/not-ready"), "operator": .string("Exists"),
                                                             "effect": .string("NoExecute"), "tolerationSeconds": .int(60)])])]),
        ]))
        let tolerations = pod.value(at: ["spec", "tolerations"])?.arrayValue ?? []
        #expect(tolerations.count == 2)
        #expect(tolerations.first { $0["key"]?.stringValue == "node.kubernetes.io/not-ready" }?["tolerationSeconds"]?.intValue == 60)
        #expect(tolerations.first { $0["key"]?.stringValue == "node.kubernetes.io/unreachable" }?["tolerationSeconds"]?.intValue == 7)
    }

    @Test func podGCForceDeletesPodsOfNodesThatAreGone() async throws {
        try await withControllerCluster { cluster in
            try await cluster.addNode("doomed")
            try await cluster.addPod("stranded", nodeName: "doomed")
            try await cluster.client.delete(.nodes, namespace: nil, name: "doomed")
            let gone = try await eventually({ try await cluster.pod("stranded") }, until: { $0 == nil })
            #expect(gone == nil)
        }
    }

    @Test func podGCKeepsOnlyTheThresholdOfFinishedPods() async throws {
        var settings = ControllerSettings.forTests
        settings.terminatedPodGCThreshold = 2
        try await withControllerCluster(settings: settings) { cluster in
            // The scheduler's Unschedulable status (there is no node) can land between the
            // create and the phase write: a conflict is retried on a fresh copy (seen under load).
            for name in ["done-1", "done-2", "done-3"] {
                try await cluster.addPod(name)
                try await writeStatus(cluster, name, phase: "Succeeded", ready: false)
            }
            try await cluster.addPod("pending")
            let remaining = try await eventually({ try await cluster.client.list(.pods, namespace: "default").items.compactMap(\.name) },
                                                 until: { $0.count == 3 })
            #expect(remaining.count == 3)
            #expect(remaining.contains("pending"))
        }
    }
}
