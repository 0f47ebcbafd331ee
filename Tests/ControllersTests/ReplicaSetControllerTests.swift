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

/// The ReplicaSet controller against the in-process API, with `TestKubelet` as the nodes.
@Suite struct ReplicaSetControllerTests {
    @Test func createsOwnedPodsReportsStatusAndScalesDown() async throws {
        try await withRolloutCluster { cluster in
            let replicaSet = try await cluster.create(.replicaSets, yaml: replicaSetJSON("web", replicas: 3))
            try await cluster.wait("3 ready replicas") {
                try await cluster.get(.replicaSets, "web").int(at: ["status", "readyReplicas"]) == 3
            }
            let pods = try await cluster.activePods("app=web")
            #expect(pods.count == 3)
            for pod in pods {
                #expect(pod.name?.hasPrefix("web-") == true)
                #expect(pod.labels == ["app": "web", "tier": "front"])
                let reference = try #require(pod.metadata["ownerReferences"]?.arrayValue?.first)
                #expect(reference["uid"]?.stringValue == replicaSet.uid)
                #expect(reference["kind"]?.stringValue == "ReplicaSet")
                #expect(reference["controller"]?.boolValue == true)
                #expect(reference["blockOwnerDeletion"]?.boolValue == true)
            }
            let status = try await cluster.get(.replicaSets, "web").value(at: ["status"])
            #expect(status?["replicas"]?.intValue == 3)
            #expect(status?["fullyLabeledReplicas"]?.intValue == 3)
            #expect(status?["availableReplicas"]?.intValue == 3)
            #expect(status?["observedGeneration"]?.intValue == 1)
            let created = try await cluster.events(about: "web").filter { $0.hasPrefix("SuccessfulCreate: Created pod: web-") }
            #expect(created.count == 3)

            // Expectations: a stale cache never makes a fourth pod.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await cluster.pods("app=web").count == 3)

            try await cluster.patch(.replicaSets, "web", #"{"spec":{"replicas":1}}"#)
            try await cluster.wait("1 pod left") { try await cluster.pods("app=web").count == 1 }
            try await cluster.wait("status of 1 replica") {
                let status = try await cluster.get(.replicaSets, "web").value(at: ["status"])
                return status?["replicas"]?.intValue == 1 && status?["observedGeneration"]?.intValue == 2
            }
            let deleted = try await cluster.events(about: "web").filter { $0.hasPrefix("SuccessfulDelete: Deleted pod: web-") }
            #expect(deleted.count == 2)
        }
    }

    @Test func replacesADeletedPod() async throws {
        try await withRolloutCluster { cluster in
            _ = try await cluster.create(.replicaSets, yaml: replicaSetJSON("web", replicas: 2))
            try await cluster.wait("2 pods") { try await cluster.activePods("app=web").count == 2 }
            let victim = try #require(try await cluster.activePods("app=web").first?.name)
            try await cluster.client.delete(.pods, namespace: "default", name: victim)
            try await cluster.wait("a replacement") {
                let names = try await cluster.activePods("app=web").compactMap(\.name)
                return names.count == 2 && !names.contains(victim)
            }
        }
    }

    @Test func adoptsMatchingOrphansAndReleasesPodsThatStopMatching() async throws {
        try await withRolloutCluster { cluster in
            let orphan = """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"orphan","labels":{"app":"web"}},
                 "spec":{"containers":[{"name":"c","image":"busybox"}]}}
                """
            _ = try await cluster.create(.pods, yaml: orphan)
            let replicaSet = try await cluster.create(.replicaSets, yaml: replicaSetJSON("web", replicas: 2))
            try await cluster.wait("the orphan adopted") {
                try await cluster.get(.pods, "orphan").controllerRef?.uid == replicaSet.uid
            }
            try await cluster.wait("2 pods") { try await cluster.activePods("app=web").count == 2 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await cluster.pods("app=web").count == 2, "the adopted pod counts: only one is created")

            // A pod relabelled out of the selector is released and replaced.
            try await cluster.patch(.pods, "orphan", #"{"metadata":{"labels":{"app":"other"}}}"#)
            try await cluster.wait("the pod released") { try await cluster.get(.pods, "orphan").controllerRef == nil }
            try await cluster.wait("a replacement") {
                try await cluster.activePods("app=web").filter { $0.controllerRef?.uid == replicaSet.uid }.count == 2
            }
        }
    }

    @Test func scaleDownDeletesNotReadyPodsFirst() async throws {
        try await withRolloutCluster(readyAfter: nil) { cluster in
            _ = try await cluster.create(.replicaSets, yaml: replicaSetJSON("web", replicas: 3))
            try await cluster.wait("3 running pods") {
                try await cluster.activePods("app=web").filter { $0.string(at: ["status", "phase"]) == "Running" }.count == 3
            }
            let pods = try await cluster.activePods("app=web").sorted { ($0.name ?? "") < ($1.name ?? "") }
            for pod in pods.prefix(2) { try await cluster.kubelet.setStatus(pod, ready: true) }
            try await cluster.wait("2 ready") { try await cluster.get(.replicaSets, "web").int(at: ["status", "readyReplicas"]) == 2 }
            try await cluster.patch(.replicaSets, "web", #"{"spec":{"replicas":2}}"#)
            try await cluster.wait("2 pods left") { try await cluster.pods("app=web").count == 2 }
            let left = Set(try await cluster.pods("app=web").compactMap(\.name))
            #expect(left == Set(pods.prefix(2).compactMap(\.name)))
        }
    }

    /// Time is frozen until the test moves it: however slowly a loaded machine runs the test,
    /// pods Ready for less than minReadySeconds are not available, and are once it has passed.
    @Test func minReadySecondsDelaysAvailability() async throws {
        let clock = TestClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000))
        try await withRolloutCluster(clock: clock) { cluster in
            _ = try await cluster.create(.replicaSets, yaml: replicaSetJSON("web", replicas: 2, minReadySeconds: 2))
            try await cluster.wait("2 ready") { try await cluster.get(.replicaSets, "web").int(at: ["status", "readyReplicas"]) == 2 }
            #expect(try await cluster.get(.replicaSets, "web").int(at: ["status", "availableReplicas"]) == 0)
            clock.advance(by: 1)
            // The controller looks again minReadySeconds after the pods turned Ready (real time).
            try await Task.sleep(for: .seconds(2.5))
            #expect(try await cluster.get(.replicaSets, "web").int(at: ["status", "availableReplicas"]) == 0)
            clock.advance(by: 1)
            try await cluster.wait("2 available after minReadySeconds", timeout: .seconds(20)) {
                try await cluster.get(.replicaSets, "web").int(at: ["status", "availableReplicas"]) == 2
            }
        }
    }

    @Test func deletionOrderFollowsKubernetesRanking() {
        func pod(_ name: String, node: String = "n", phase: String = "Running", ready: Bool = true, readySince: String = "2026-11-22T10:00:00Z",
                 restarts: Int64 = 0, created: String = "2026-11-22T09:00:00Z") -> KubeObject {
            KubeObject(fields: [
                "metadata": .object(["name": .string(name), "uid": .string(name), "creationTimestamp": .string(created)]),
                "spec": .object(["nodeName": .string(node)]),
                "status": .object(["phase": .string(phase),
                                   "conditions": .array([.object(["type": .string("Ready"), "status": .string(ready ? "True" : "False"),
                                                                  "lastTransitionTime": .string(readySince)])]),
                                   "containerStatuses": .array([.object(["restartCount": .int(restarts)])])]),
            ])
        }
        let pods = [
            pod("old"),
            pod("running-not-ready", ready: false),
            pod("unassigned", node: "", phase: "Pending", ready: false),
            pod("pending", phase: "Pending", ready: false),
            pod("restarted", restarts: 3),
            pod("newer", created: "2026-11-22T09:30:00Z"),
            pod("recently-ready", readySince: "2026-11-22T10:30:00Z"),
        ]
        let order = ReplicaSetPods.deletionOrder(pods.shuffled(), ranks: [:]).compactMap(\.name)
        #expect(order == ["unassigned", "pending", "running-not-ready", "recently-ready", "restarted", "newer", "old"])
        // More pods of the family on a node: that node's pods go first.
        let crowded = ReplicaSetPods.deletionOrder([pod("alone", node: "a"), pod("crowded", node: "b")], ranks: ["crowded": 3, "alone": 1])
        #expect(crowded.compactMap(\.name) == ["crowded", "alone"])
    }

    /// A controller manager stopped before its informers listed used to wait for them forever
    /// (the cluster of a test that ends at once).
    @Test(.timeLimit(.minutes(1)))
    func informerCancelledBeforeItsFirstListReleasesWaiters() async throws {
        let directory = try TemporaryDirectory()
        let storage = try SQLiteStorage(path: directory.path + "/state.db")
        defer { Task { await storage.close() } }
        let informer = Informer(ref: .pods, client: InProcessClient(service: try APIService(storage: storage)), logger: Logger(label: "test"))
        let task = Task { await informer.run() }
        task.cancel()
        await task.value
        await informer.waitForSync()
        #expect(informer.list().isEmpty)
    }

    @Test func replicaFailureConditionComesAndGoesWithCreateErrors() {
        let replicaSet = KubeObject(fields: ["metadata": .object(["name": .string("web"), "generation": .int(4)]),
                                             "spec": .object(["replicas": .int(1)])])
        let failing = ReplicaSetStatus.calculate(replicaSet, pods: [], manageError: .init(reason: "FailedCreate", message: "quota exceeded"),
                                                 now: Date())
        let condition = failing["conditions"]?.arrayValue?.first
        #expect(condition?["type"]?.stringValue == "ReplicaFailure")
        #expect(condition?["reason"]?.stringValue == "FailedCreate")
        #expect(condition?["message"]?.stringValue == "quota exceeded")
        #expect(failing["observedGeneration"]?.intValue == 4)
        var failed = replicaSet
        failed.set(failing, at: ["status"])
        let recovered = ReplicaSetStatus.calculate(failed, pods: [], manageError: nil, now: Date())
        #expect(recovered["conditions"] == nil)
    }
}
