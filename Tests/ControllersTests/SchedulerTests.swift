@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Testing

@Suite struct SchedulerTests {
    private func nodeName(_ cluster: ControllerTestCluster, _ pod: String) async throws -> String {
        try await eventually({ try await cluster.pod(pod)?.string(at: ["spec", "nodeName"]) ?? "" }, until: { !$0.isEmpty })
    }

    private func podScheduledCondition(_ cluster: ControllerTestCluster, _ pod: String) async throws -> JSONValue? {
        try await eventually({
            try await cluster.pod(pod)?.value(at: ["status", "conditions"])?.arrayValue?
                .first { $0["type"]?.stringValue == "PodScheduled" }
        }, until: { $0?["status"]?.stringValue == "False" })
    }

    @Test func spreadsPodsOfOneOwnerOverThreeNodesAndRecordsScheduledEvents() async throws {
        try await withControllerCluster { cluster in
            // n1 is far larger: least-allocated alone would put every pod there; spreading wins.
            try await cluster.addNode("n1", cpu: "64", memory: "256Gi")
            for name in ["n2", "n3"] { try await cluster.addNode(name) }
            let owner = try await cluster.client.create(.configMaps, namespace: "default",
                                                        KubeObject(fields: ["metadata": .object(["name": .string("owner")])]))
            for index in 0..<6 { try await cluster.addPod("web-\(index)", cpu: "100m", owner: owner) }
            var counts: [String: Int] = [:]
            for index in 0..<6 { counts[try await nodeName(cluster, "web-\(index)"), default: 0] += 1 }
            #expect(counts == ["n1": 2, "n2": 2, "n3": 2])

            let node = try await nodeName(cluster, "web-0")
            let events = try await eventually({ try await cluster.events(about: "web-0", reason: "Scheduled") }, until: { !$0.isEmpty })
            #expect(events.first?.string(at: ["message"]) == "Successfully assigned default/web-0 to \(node)")
            #expect(events.first?.string(at: ["source", "component"]) == "default-scheduler")
            #expect(events.first?.string(at: ["type"]) == "Normal")
            let condition = try await cluster.pod("web-0")?.value(at: ["status", "conditions"])?.arrayValue?
                .first { $0["type"]?.stringValue == "PodScheduled" }
            #expect(condition?["status"]?.stringValue == "True")
        }
    }

    @Test func honoursNodeSelectorTaintsTolerationsAndRequiredNodeAffinity() async throws {
        try await withControllerCluster { cluster in
            try await cluster.addNode("ssd", labels: ["disk": "ssd"])
            try await cluster.addNode("gpu", taints: [NodeTaint(key: "dedicated", value: "gpu", effect: "NoSchedule")])
            try await cluster.addNode("plain")

            try await cluster.addPod("wants-ssd", nodeSelector: ["disk": "ssd"])
            #expect(try await nodeName(cluster, "wants-ssd") == "ssd")

            let toleration: JSONValue = .object(["key": .string("dedicated"), "operator": .string("Equal"),
                                                 "value": .string("gpu"), "effect": .string("NoSchedule")])
            try await cluster.addPod("tolerates-gpu", nodeSelector: ["kubernetes.io/hostname": "gpu"], tolerations: [toleration])
            #expect(try await nodeName(cluster, "tolerates-gpu") == "gpu")

            // Affinity rules out ssd and plain; gpu's taint is not tolerated.
            let affinity: JSONValue = .object(["nodeAffinity": .object(["requiredDuringSchedulingIgnoredDuringExecution": .object([
                "nodeSelectorTerms": .array([.object(["matchExpressions": .array([.object([
                    "key": .string("kubernetes.io/hostname"), "operator": .string("NotIn"), "values": .array([.string("ssd"), .string("plain")]),
                ])])])]),
            ])])])
            try await cluster.addPod("nowhere", extraSpec: ["affinity": affinity])
            let condition = try await podScheduledCondition(cluster, "nowhere")
            #expect(condition?["reason"]?.stringValue == "Unschedulable")
            #expect(condition?["message"]?.stringValue == """
                0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, \
                2 node(s) didn't match Pod's node affinity/selector. \
                preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
                """)

            // Exists-affinity with the toleration lands on gpu.
            let existsAffinity: JSONValue = .object(["nodeAffinity": .object(["requiredDuringSchedulingIgnoredDuringExecution": .object([
                "nodeSelectorTerms": .array([.object(["matchExpressions": .array([.object([
                    "key": .string("disk"), "operator": .string("DoesNotExist"),
                ]), .object(["key": .string("kubernetes.io/hostname"), "operator": .string("In"), "values": .array([.string("gpu")])])])])]),
            ])])])
            try await cluster.addPod("affine", tolerations: [toleration], extraSpec: ["affinity": existsAffinity])
            #expect(try await nodeName(cluster, "affine") == "gpu")
        }
    }

    @Test func insufficientResourcesGiveKubeSchedulersExactMessageAndEvent() async throws {
        try await withControllerCluster { cluster in
            try await cluster.addNode("a", cpu: "2")
            try await cluster.addNode("b", cpu: "2")
            // An unreachable node: the lifecycle controller keeps it tainted.
            try await cluster.addNode("c", cpu: "8", ready: "Unknown")
            // Two pods of 1.5 cpu fill a and b (the second one must see the first's binding).
            try await cluster.addPod("big-1", cpu: "1500m")
            try await cluster.addPod("big-2", cpu: "1500m")
            let first = try await nodeName(cluster, "big-1")
            let second = try await nodeName(cluster, "big-2")
            #expect(Set([first, second]) == ["a", "b"])

            try await cluster.addPod("too-big", cpu: "1")
            let message = """
                0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient cpu. \
                preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, \
                2 No preemption victims found for incoming pod.
                """
            let condition = try await podScheduledCondition(cluster, "too-big")
            #expect(condition?["message"]?.stringValue == message)
            let events = try await eventually({ try await cluster.events(about: "too-big", reason: "FailedScheduling") }, until: { !$0.isEmpty })
            #expect(events.first?.string(at: ["message"]) == message)
            #expect(events.first?.string(at: ["type"]) == "Warning")

            // Room appears when big-1 finishes: the pending pod is retried and fits.
            var finished = try #require(try await cluster.pod("big-1"))
            finished.set(.string("Succeeded"), at: ["status", "phase"])
            _ = try await cluster.client.update(.pods, finished, subresource: "status")
            #expect(try await nodeName(cluster, "too-big") == first)
        }
    }

    /// A pending pod is retried when a node changes in a way that could make it fit, not on
    /// every heartbeat: with many pending pods, retrying all of them (and writing their
    /// FailedScheduling events) at each node status write saturated the store.
    @Test func nodeHeartbeatsDoNotRetryPendingPodsButALabelChangeDoes() async throws {
        var settings = ControllerSettings.forTests
        settings.schedulerRetryPeriod = .seconds(3600)
        try await withControllerCluster(settings: settings) { cluster in
            try await cluster.addNode("a", cpu: "1")
            try await cluster.addPod("waits", nodeSelector: ["disk": "ssd"])
            @Sendable func attempts() async throws -> Int64 {
                try await cluster.events(about: "waits", reason: "FailedScheduling").first?.value(at: ["count"])?.intValue ?? 0
            }
            _ = try await eventually({ try await attempts() }, until: { $0 >= 1 })
            // The node's own add event may reach the scheduler after the pod's first attempt
            // (two informers): let such retries finish before counting.
            #expect(try await storeSettles(cluster.api.storage))
            let before = try await attempts()
            for _ in 0..<5 {
                var node = try #require(try await cluster.client.get(.nodes, namespace: nil, name: "a"))
                var conditions = node.value(at: ["status", "conditions"])?.arrayValue ?? []
                conditions[0] = .object((conditions[0].objectValue ?? [:]).merging(["lastHeartbeatTime": .string(Time.now().description)]) { $1 })
                node.set(.array(conditions), at: ["status", "conditions"])
                node.set(.array([.object(["type": .string("InternalIP"), "address": .string("10.0.0.\(Int.random(in: 2...200))")])]),
                         at: ["status", "addresses"])
                _ = try await cluster.client.update(.nodes, node, subresource: "status")
            }
            // A label change is a reason: the pod is retried, and now fits.
            var node = try #require(try await cluster.client.get(.nodes, namespace: nil, name: "a"))
            node.labels["disk"] = "ssd"
            _ = try await cluster.client.update(.nodes, node)
            #expect(try await nodeName(cluster, "waits") == "a")
            #expect(try await attempts() == before, "the heartbeats retried the pod")
        }
    }

    @Test func podsOfOtherSchedulersAreLeftAlone() async throws {
        try await withControllerCluster { cluster in
            try await cluster.addNode("n1")
            try await cluster.addPod("custom", extraSpec: ["schedulerName": .string("my-scheduler")])
            try await cluster.addPod("ours")
            #expect(try await nodeName(cluster, "ours") == "n1")
            #expect(try await cluster.pod("custom")?.string(at: ["spec", "nodeName"]) == nil)
        }
    }

    @Test func failureMessageFormatsLikeKubeScheduler() {
        let taint = SchedulerPredicates.Verdict(reasons: ["node(s) had untolerated taint {node.kubernetes.io/unreachable: }"])
        let cpu = SchedulerPredicates.Verdict(reasons: ["Insufficient cpu"], resolvable: true)
        let both = SchedulerPredicates.Verdict(reasons: ["Insufficient cpu", "Insufficient memory"], resolvable: true)
        // What preemption reports for nodes without lower-priority pods, and for a taint.
        let none = [SchedulerPreemption.noVictimsReason], notHelpful = [SchedulerPreemption.notHelpfulReason]
        #expect(SchedulerPredicates.failureMessage(verdicts: [cpu, both, taint], postFilter: .noCandidate([none, none, notHelpful])) == """
            0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, \
            2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, \
            2 No preemption victims found for incoming pod.
            """)
        #expect(SchedulerPredicates.failureMessage(verdicts: [cpu], postFilter: .ineligible(SchedulerPreemption.neverMessage))
                == "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.")
        #expect(SchedulerPredicates.failureMessage(verdicts: [cpu], postFilter: .nominated) == "0/1 nodes are available: 1 Insufficient cpu.")
    }

    @Test func predicatesReportTheFirstFailingPluginPerNode() {
        func node(_ fields: [String: JSONValue], allocatable: [String: JSONValue] = ["cpu": .string("1"), "pods": .string("1")]) -> KubeObject {
            var node = KubeObject(fields: ["metadata": .object(["name": .string("n"), "labels": .object(["rack": .string("7")])]),
                                           "spec": .object(fields)])
            node.set(.object(allocatable), at: ["status", "allocatable"])
            node.set(.array([.object(["type": .string("Ready"), "status": .string("True")])]), at: ["status", "conditions"])
            return node
        }
        let pod = KubeObject(fields: ["spec": .object(["containers": .array([])])])
        let requests = SchedulerPredicates.requests(of: pod)
        // Cordoned beats everything else.
        let cordoned = SchedulerPredicates.evaluate(pod: pod, requests: requests, node: node(["unschedulable": .bool(true)]),
                                                    used: SchedulingResources(pods: 5))
        #expect(cordoned.reasons == ["node(s) were unschedulable"])
        #expect(!cordoned.resolvable)
        let full = SchedulerPredicates.evaluate(pod: pod, requests: requests, node: node([:]), used: SchedulingResources(pods: 1))
        #expect(full.reasons == ["Too many pods"])
        #expect(full.resolvable)
        // Gt compares integers.
        var affine = pod
        affine.set(.object(["nodeAffinity": .object(["requiredDuringSchedulingIgnoredDuringExecution": .object([
            "nodeSelectorTerms": .array([.object(["matchExpressions": .array([.object([
                "key": .string("rack"), "operator": .string("Gt"), "values": .array([.string("10")]),
            ])])])]),
        ])])]), at: ["spec", "affinity"])
        #expect(!SchedulerPredicates.matchesRequiredAffinity(pod: affine, node: node([:])))
        // Requests: containers add up, an init container counts when larger, limits stand in.
        let sized = KubeObject(fields: ["spec": .object([
            "containers": .array([
                .object(["resources": .object(["requests": .object(["cpu": .string("250m")])])]),
                .object(["resources": .object(["limits": .object(["cpu": .string("250m"), "memory": .string("1Gi")])])]),
            ]),
            "initContainers": .array([.object(["resources": .object(["requests": .object(["cpu": .string("2")])])])]),
        ])])
        #expect(SchedulerPredicates.requests(of: sized) == SchedulingResources(milliCPU: 2000, memory: 1 << 30, pods: 1))
    }
}
