@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Logging
import Testing

/// The replication controller (the ReplicaSet engine made with `ReplicaSetKind.replicationController`)
/// against the in-process API, with `TestKubelet` as the nodes, as `ReplicaSetControllerTests` do.
@Suite struct ReplicationControllerTests {
    static func rcJSON(_ name: String, replicas: Int, selector: String? = nil) -> String {
        let selectorField = selector.map { #""selector":\#($0),"# } ?? ""
        return """
            {"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"\(name)"},
             "spec":{"replicas":\(replicas),\(selectorField)
               "template":{"metadata":{"labels":{"app":"\(name)","tier":"front"}},
                 "spec":{"containers":[{"name":"c","image":"busybox","command":["sleep","3600"]}]}}}}
            """
    }

    @Test func createsOwnedPodsReportsStatusAndScales() async throws {
        try await withRolloutCluster { cluster in
            // No selector: defaulted to the template's labels.
            let rc = try await cluster.create(.replicationControllers, yaml: Self.rcJSON("web", replicas: 3))
            try await cluster.wait("3 ready replicas") {
                try await cluster.get(.replicationControllers, "web").int(at: ["status", "readyReplicas"]) == 3
            }
            let pods = try await cluster.activePods("app=web")
            #expect(pods.count == 3)
            for pod in pods {
                #expect(pod.name?.hasPrefix("web-") == true)
                #expect(pod.labels == ["app": "web", "tier": "front"])
                let reference = try #require(pod.metadata["ownerReferences"]?.arrayValue?.first)
                #expect(reference["apiVersion"]?.stringValue == "v1")
                #expect(reference["kind"]?.stringValue == "ReplicationController")
                #expect(reference["name"]?.stringValue == "web")
                #expect(reference["uid"]?.stringValue == rc.uid)
                #expect(reference["controller"]?.boolValue == true)
                #expect(reference["blockOwnerDeletion"]?.boolValue == true)
            }
            let status = try await cluster.get(.replicationControllers, "web").value(at: ["status"])
            #expect(status?["replicas"]?.intValue == 3)
            #expect(status?["fullyLabeledReplicas"]?.intValue == 3)
            #expect(status?["availableReplicas"]?.intValue == 3)
            #expect(status?["observedGeneration"]?.intValue == 1)
            let events = try await cluster.client.list(.events, namespace: "default").items
                .filter { $0.string(at: ["involvedObject", "name"]) == "web" && $0.string(at: ["reason"]) == "SuccessfulCreate" }
            #expect(events.count == 3)
            #expect(events.allSatisfy {
                $0.string(at: ["involvedObject", "kind"]) == "ReplicationController" && $0.string(at: ["source", "component"]) == "replication-controller"
            }, "\(events.map(\.json))")
            // The ReplicaSet controller leaves the RC's pods alone (no ReplicaSet selects them anyway).
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await cluster.pods("app=web").count == 3)

            // Scaled down through the scale subresource, as `kubectl scale rc` does.
            let resource = try #require(cluster.api.service.registry.resource(group: "", version: "v1", name: "replicationcontrollers"))
            _ = try await cluster.api.service.updateScale(resource: resource, namespace: "default", name: "web",
                                                          scale: KubeObject(fields: ["spec": .object(["replicas": .int(1)])]),
                                                          context: cluster.api.service.context())
            try await cluster.wait("1 pod left") { try await cluster.pods("app=web").count == 1 }
            try await cluster.wait("status of 1 replica") {
                let status = try await cluster.get(.replicationControllers, "web").value(at: ["status"])
                return status?["replicas"]?.intValue == 1 && status?["observedGeneration"]?.intValue == 2
            }
            let deleted = try await cluster.events(about: "web").filter { $0.hasPrefix("SuccessfulDelete: Deleted pod: web-") }
            #expect(deleted.count == 2)
        }
    }

    @Test func adoptsOrphansItsEqualitySelectorMatchesAndReleasesOthers() async throws {
        try await withRolloutCluster { cluster in
            let orphan = """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"orphan","labels":{"app":"web","extra":"yes"}},
                 "spec":{"containers":[{"name":"c","image":"busybox"}]}}
                """
            let stranger = """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"stranger","labels":{"app":"other"}},
                 "spec":{"containers":[{"name":"c","image":"busybox"}]}}
                """
            _ = try await cluster.create(.pods, yaml: orphan)
            _ = try await cluster.create(.pods, yaml: stranger)
            let rc = try await cluster.create(.replicationControllers, yaml: Self.rcJSON("web", replicas: 2, selector: #"{"app":"web"}"#))
            try await cluster.wait("the orphan adopted") {
                try await cluster.get(.pods, "orphan").controllerRef?.uid == rc.uid
            }
            try await cluster.wait("2 pods") { try await cluster.activePods("app=web").count == 2 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await cluster.pods("app=web").count == 2, "the adopted pod counts: only one is created")
            #expect(try await cluster.get(.pods, "stranger").controllerRef == nil)
            // Partly labelled: counted in replicas, not in fullyLabeledReplicas (no tier label).
            try await cluster.wait("fullyLabeledReplicas 1 of 2") {
                let status = try await cluster.get(.replicationControllers, "web").value(at: ["status"])
                return status?["replicas"]?.intValue == 2 && status?["fullyLabeledReplicas"]?.intValue == 1
            }

            try await cluster.patch(.pods, "orphan", #"{"metadata":{"labels":{"app":"gone"}}}"#)
            try await cluster.wait("the pod released") { try await cluster.get(.pods, "orphan").controllerRef == nil }
            try await cluster.wait("a replacement") {
                try await cluster.activePods("app=web").filter { $0.controllerRef?.uid == rc.uid }.count == 2
            }
        }
    }

    /// A ReplicaSet and an RC selecting the same labels: each keeps the pods it owns (the
    /// controller reference decides), neither deletes the other's.
    @Test func ownedPodsAreNotTakenByAReplicaSet() async throws {
        try await withRolloutCluster { cluster in
            let rc = try await cluster.create(.replicationControllers, yaml: Self.rcJSON("web", replicas: 2, selector: #"{"app":"web"}"#))
            try await cluster.wait("2 RC pods") { try await cluster.activePods("app=web").count == 2 }
            let replicaSet = try await cluster.create(.replicaSets, yaml: replicaSetJSON("web", replicas: 1))
            try await cluster.wait("the ReplicaSet's own pod") {
                try await cluster.activePods("app=web").filter { $0.controllerRef?.uid == replicaSet.uid }.count == 1
            }
            try await Task.sleep(for: .milliseconds(300))
            let pods = try await cluster.activePods("app=web")
            #expect(pods.filter { $0.controllerRef?.uid == rc.uid }.count == 2)
            #expect(pods.count == 3)
        }
    }

    /// In the whole controller manager: a PodDisruptionBudget's expected pods follow the RC's
    /// replicas (upstream's `getPodReplicationController` finder), and deleting the RC (background
    /// propagation) lets the garbage collector delete its pods.
    @Test func budgetsCountTheReplicasAndTheCollectorDeletesThePods() async throws {
        try await withControllerCluster { cluster in
            try await withFakeKubelets(client: cluster.client) {
                try await cluster.addNode("n1")
                _ = try await cluster.client.create(.replicationControllers, namespace: "default",
                                                    try DisruptionControllerTests.object(Self.rcJSON("web", replicas: 3)))
                _ = try await cluster.client.create(.podDisruptionBudgets, namespace: "default",
                                                    DisruptionControllerTests.budget(#""maxUnavailable":1"#))
                let initial = try await eventually(within: 60, { try await DisruptionControllerTests.counts(cluster) }) { $0 == [3, 3, 1] }
                #expect(initial == [3, 3, 1])
                _ = try await cluster.client.patch(.replicationControllers, namespace: "default", name: "web",
                                                   .object(["spec": .object(["replicas": .int(4)])]))
                let scaled = try await eventually(within: 60, { try await DisruptionControllerTests.counts(cluster) }) { $0 == [4, 4, 1] }
                #expect(scaled == [4, 4, 1], "expected pods follow the RC's replicas")

                try await cluster.client.delete(.replicationControllers, namespace: "default", name: "web", propagationPolicy: "Background")
                let left = try await eventually(within: 60, {
                    try await cluster.client.list(.pods, namespace: "default").items.filter { $0.labels["app"] == "web" }.count
                }) { $0 == 0 }
                #expect(left == 0)
            }
        }
    }

    @Test func replicationKindConvertsTheMapSelector() throws {
        let rc = KubeObject(fields: ["spec": .object(["selector": .object(["app": .string("web"), "tier": .string("front")])])])
        let selector = try ReplicaSetKind.replicationController.selector(of: rc)
        #expect(selector.description == "app=web,tier=front")
        #expect(selector.matches(["app": "web", "tier": "front", "x": "y"]))
        #expect(!selector.matches(["app": "web"]))
        #expect(ReplicaSetKind.replicationController.controllerName == "replicationcontroller")
        #expect(ControllerManager.controllerNames.contains("replicationcontroller"))
    }
}
