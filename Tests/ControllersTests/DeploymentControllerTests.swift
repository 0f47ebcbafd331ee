@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Testing

extension RolloutCluster {
    /// Waits until the rollout is complete: every replica updated and available, the
    /// Progressing condition saying so.
    func waitForRollout(_ name: String, timeout: Duration = .seconds(60)) async throws {
        try await wait("deployment \(name) rolled out", timeout: timeout) {
            let deployment = try await get(.deployments, name)
            let replicas = deployment.specReplicas
            let status = deployment.value(at: ["status"])
            let progressing = DeploymentStatus.condition(status, "Progressing")?["reason"]?.stringValue
            return status?["updatedReplicas"]?.intValue == replicas && status?["replicas"]?.intValue == replicas
                && status?["availableReplicas"]?.intValue == replicas && progressing == DeploymentStatus.newReplicaSetAvailable
                && (status?["observedGeneration"]?.intValue ?? 0) >= (deployment.generation ?? 0)
        }
    }

    func image(of object: KubeObject) -> String? {
        object.value(at: ["spec", "template", "spec", "containers"])?.arrayValue?.first?["image"]?.stringValue
    }
}

/// The Deployment controller (with the ReplicaSet controller under it) against the in-process
/// API, with `TestKubelet` as the nodes.
@Suite struct DeploymentControllerTests {
    @Test func createMakesAHashedReplicaSetWithRevisionAndStatus() async throws {
        try await withRolloutCluster { cluster in
            let deployment = try await cluster.create(.deployments, yaml: deploymentJSON("web", replicas: 3))
            try await cluster.waitForRollout("web")
            let replicaSets = try await cluster.replicaSets(of: "web")
            #expect(replicaSets.count == 1)
            let replicaSet = try #require(replicaSets.first)
            let hash = try #require(replicaSet.labels[PodTemplateHash.label])
            #expect(replicaSet.name == "web-\(hash)")
            #expect(replicaSet.value(at: ["spec", "selector", "matchLabels", "pod-template-hash"])?.stringValue == hash)
            #expect(replicaSet.value(at: ["spec", "template", "metadata", "labels", "pod-template-hash"])?.stringValue == hash)
            #expect(replicaSet.annotations["deployment.kubernetes.io/revision"] == "1")
            #expect(replicaSet.annotations["deployment.kubernetes.io/desired-replicas"] == "3")
            #expect(replicaSet.annotations["deployment.kubernetes.io/max-replicas"] == "4") // 25% of 3 rounds up to 1
            #expect(replicaSet.controllerRef?.uid == deployment.uid)
            #expect(try await cluster.activePods("pod-template-hash=\(hash)").count == 3)

            let current = try await cluster.get(.deployments, "web")
            #expect(current.annotations["deployment.kubernetes.io/revision"] == "1")
            let status = current.value(at: ["status"])
            #expect(status?["readyReplicas"]?.intValue == 3)
            #expect(status?["unavailableReplicas"]?.intValue == 0)
            let available = DeploymentStatus.condition(status, "Available")
            #expect(available?["status"]?.stringValue == "True")
            #expect(available?["reason"]?.stringValue == "MinimumReplicasAvailable")
            #expect(available?["message"]?.stringValue == "Deployment has minimum availability.")
            let progressing = DeploymentStatus.condition(status, "Progressing")
            #expect(progressing?["message"]?.stringValue == "ReplicaSet \"web-\(hash)\" has successfully progressed.")
            #expect(try await cluster.events(about: "web").contains("ScalingReplicaSet: Scaled up replica set web-\(hash) from 0 to 3"))
        }
    }

    @Test func rollingUpdateStaysWithinMaxSurgeAndMaxUnavailableAtEveryStep() async throws {
        try await withRolloutCluster(readyAfter: .milliseconds(150)) { cluster in
            let strategy = #"{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":1}}"#
            _ = try await cluster.create(.deployments, yaml: deploymentJSON("web", replicas: 4, strategy: strategy))
            try await cluster.waitForRollout("web")
            let observer = RolloutObserver(cluster: cluster)
            let watching = Task { try await observer.run() }
            defer { watching.cancel() }
            try await observer.waitUntilWatching()

            try await cluster.patch(.deployments, "web", #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:1.26"}]}}}}"#)
            try await cluster.waitForRollout("web")
            let replicaSets = try await cluster.replicaSets(of: "web")
            #expect(replicaSets.map(\.specReplicas) == [0, 4])
            #expect(replicaSets.last.map(cluster.image(of:)) == "nginx:1.26")
            let pods = try await cluster.activePods("app=web")
            #expect(pods.count == 4 && pods.allSatisfy { $0.labels["pod-template-hash"] == replicaSets.last?.labels["pod-template-hash"] })

            let seen = observer.summary
            #expect(seen.maxSpecTotal <= 5, "sum of ReplicaSet replicas went to \(seen.maxSpecTotal), above replicas + maxSurge")
            #expect(seen.minAvailable >= 3, "ready pods went down to \(seen.minAvailable), below replicas - maxUnavailable")
            #expect(seen.sawBothRevisions, "old and new pods never ran side by side: not a rolling update")
        }
    }

    @Test func recreateStopsEveryOldPodBeforeStartingNewOnes() async throws {
        try await withRolloutCluster { cluster in
            _ = try await cluster.create(.deployments, yaml: deploymentJSON("web", replicas: 2, strategy: #"{"type":"Recreate"}"#))
            try await cluster.waitForRollout("web")
            let observer = RolloutObserver(cluster: cluster)
            let watching = Task { try await observer.run() }
            defer { watching.cancel() }
            try await observer.waitUntilWatching()
            try await cluster.patch(.deployments, "web", #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:1.26"}]}}}}"#)
            try await cluster.waitForRollout("web")
            #expect(try await cluster.replicaSets(of: "web").map(\.specReplicas) == [0, 2])
            #expect(!observer.summary.sawBothRevisions, "a new pod existed while an old one did")
        }
    }

    @Test func pausedDeploymentDoesNotRollOutUntilResumed() async throws {
        try await withRolloutCluster { cluster in
            _ = try await cluster.create(.deployments, yaml: deploymentJSON("web", replicas: 2))
            try await cluster.waitForRollout("web")
            try await cluster.patch(.deployments, "web", #"{"spec":{"paused":true}}"#)
            try await cluster.wait("the Progressing condition to say paused") {
                let condition = DeploymentStatus.condition(try await cluster.get(.deployments, "web").value(at: ["status"]), "Progressing")
                return condition?["reason"]?.stringValue == "DeploymentPaused" && condition?["status"]?.stringValue == "Unknown"
            }
            try await cluster.patch(.deployments, "web", #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:1.26"}]}}}}"#)
            // Checked once the controller has synced the new template (its observedGeneration,
            // written by the paused sync as upstream's syncStatusOnly does), not after a fixed
            // 700 ms that a loaded machine could pass before the sync ran.
            let generation = try await cluster.get(.deployments, "web").generation ?? 0
            try await cluster.wait("the new template observed") {
                try await cluster.get(.deployments, "web").int(at: ["status", "observedGeneration"]) >= generation
            }
            #expect(try await cluster.replicaSets(of: "web").count == 1, "a paused Deployment made a new ReplicaSet")

            try await cluster.patch(.deployments, "web", #"{"spec":{"paused":null}}"#)
            try await cluster.waitForRollout("web")
            let replicaSets = try await cluster.replicaSets(of: "web")
            #expect(replicaSets.count == 2)
            #expect(replicaSets.last.map(cluster.image(of:)) == "nginx:1.26")
        }
    }

    /// What `kubectl rollout undo` does: the previous ReplicaSet's template (without the hash
    /// label) patched into the Deployment. The old ReplicaSet is reused with a new revision.
    @Test func undoReusesThePreviousReplicaSetUnderANewRevision() async throws {
        try await withRolloutCluster { cluster in
            _ = try await cluster.create(.deployments, yaml: deploymentJSON("web", replicas: 2))
            try await cluster.waitForRollout("web")
            try await cluster.patch(.deployments, "web", #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:1.26"}]}}}}"#)
            try await cluster.waitForRollout("web")
            let first = try #require(try await cluster.replicaSets(of: "web").first)
            var template = try #require(first.value(at: ["spec", "template"]))
            template.set(nil, at: ["metadata", "labels", "pod-template-hash"][...])
            template.set(.null, at: ["metadata", "creationTimestamp"][...]) // as Go clients send it
            let operations: JSONValue = .array([.object(["op": .string("replace"), "path": .string("/spec/template"), "value": template])])
            _ = try await cluster.client.store(.deployments).patch(namespace: "default", name: "web", patch: operations, type: .json,
                                                                   subresource: nil, context: cluster.api.service.context())
            try await cluster.waitForRollout("web")
            let replicaSets = try await cluster.replicaSets(of: "web")
            #expect(replicaSets.count == 2, "undo made a new ReplicaSet instead of reusing revision 1's")
            let reused = try #require(replicaSets.last)
            #expect(reused.uid == first.uid)
            #expect(reused.annotations["deployment.kubernetes.io/revision"] == "3")
            #expect(reused.annotations["deployment.kubernetes.io/revision-history"] == "1")
            #expect(try await cluster.get(.deployments, "web").annotations["deployment.kubernetes.io/revision"] == "3")
            #expect(try await cluster.activePods("app=web").allSatisfy { $0.labels["pod-template-hash"] == first.labels["pod-template-hash"] })
        }
    }

    @Test func oldReplicaSetsBeyondTheHistoryLimitAreDeleted() async throws {
        try await withRolloutCluster { cluster in
            _ = try await cluster.create(.deployments, yaml: deploymentJSON("web", replicas: 1, extraSpec: #""revisionHistoryLimit":1,"#))
            try await cluster.waitForRollout("web")
            for image in ["nginx:1.26", "nginx:1.27", "nginx:1.28"] {
                try await cluster.patch(.deployments, "web", #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"\#(image)"}]}}}}"#)
                try await cluster.waitForRollout("web")
            }
            try await cluster.wait("one old ReplicaSet kept") { try await cluster.replicaSets(of: "web").count == 2 }
            let revisions = try await cluster.replicaSets(of: "web").map(DeploymentReplicas.revision)
            #expect(revisions == [3, 4])
        }
    }

    /// Kubernetes' documented example: 10 replicas, maxSurge 3, maxUnavailable 2, a rollout
    /// stuck on pods that never get ready (8 old, 5 new), then a scale to 15 spread 3 to the
    /// old ReplicaSet and 2 to the new one.
    @Test func scalingMidRolloutIsProportional() async throws {
        try await withRolloutCluster { cluster in
            let strategy = #"{"type":"RollingUpdate","rollingUpdate":{"maxSurge":3,"maxUnavailable":2}}"#
            _ = try await cluster.create(.deployments, yaml: deploymentJSON("web", replicas: 10, strategy: strategy))
            try await cluster.waitForRollout("web")
            cluster.kubelet.readyAfter = nil
            try await cluster.patch(.deployments, "web", #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:broken"}]}}}}"#)
            try await cluster.wait("8 old and 5 new") { try await cluster.replicaSets(of: "web").map(\.specReplicas) == [8, 5] }
            try await cluster.patch(.deployments, "web", #"{"spec":{"replicas":15}}"#)
            try await cluster.wait("11 old and 7 new") { try await cluster.replicaSets(of: "web").map(\.specReplicas) == [11, 7] }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await cluster.replicaSets(of: "web").map(\.specReplicas) == [11, 7])
            let replicaSets = try await cluster.replicaSets(of: "web")
            #expect(replicaSets.allSatisfy { $0.annotations["deployment.kubernetes.io/desired-replicas"] == "15" })
            #expect(replicaSets.allSatisfy { $0.annotations["deployment.kubernetes.io/max-replicas"] == "18" })
        }
    }

    @Test func progressDeadlineExceededWhenPodsNeverGetReady() async throws {
        try await withRolloutCluster(readyAfter: nil) { cluster in
            _ = try await cluster.create(.deployments, yaml: deploymentJSON("web", replicas: 1, extraSpec: #""progressDeadlineSeconds":1,"#))
            try await cluster.wait("ProgressDeadlineExceeded", timeout: .seconds(15)) {
                let condition = DeploymentStatus.condition(try await cluster.get(.deployments, "web").value(at: ["status"]), "Progressing")
                return condition?["reason"]?.stringValue == "ProgressDeadlineExceeded" && condition?["status"]?.stringValue == "False"
            }
            let status = try await cluster.get(.deployments, "web").value(at: ["status"])
            let name = try #require(try await cluster.replicaSets(of: "web").first?.name)
            #expect(DeploymentStatus.condition(status, "Progressing")?["message"]?.stringValue == "ReplicaSet \"\(name)\" has timed out progressing.")
            #expect(DeploymentStatus.condition(status, "Available")?["reason"]?.stringValue == "MinimumReplicasUnavailable")
            #expect(status?["unavailableReplicas"]?.intValue == 1)
        }
    }

    @Test func podTemplateHashIsStableAndChangesWithTheCollisionCount() throws {
        let template = try JSONParser.parse(Array(#"{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#.utf8))
        let reordered = try JSONParser.parse(Array(#"{"spec":{"containers":[{"image":"nginx","name":"c"}]},"metadata":{"labels":{"app":"web"},"creationTimestamp":null}}"#.utf8))
        let hash = PodTemplateHash.compute(template: template, collisionCount: nil)
        #expect(hash == PodTemplateHash.compute(template: reordered, collisionCount: nil))
        #expect(hash != PodTemplateHash.compute(template: template, collisionCount: 1))
        #expect(hash.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
        #expect(PodTemplateHash.safeEncode("0123456789") == "456789bcdf")
        var labelled = template
        labelled.set(.string(hash), at: ["metadata", "labels", "pod-template-hash"][...])
        #expect(PodTemplateHash.equalIgnoringHash(labelled, reordered))
    }

    @Test func surgeRoundsUpAndUnavailableDown() throws {
        func deployment(_ replicas: Int, surge: String, unavailable: String) throws -> KubeObject {
            KubeObject(fields: try JSONParser.parse(Array("""
                {"spec":{"replicas":\(replicas),"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":\(surge),"maxUnavailable":\(unavailable)}}}}
                """.utf8)).objectValue ?? [:])
        }
        let defaults = try deployment(10, surge: #""25%""#, unavailable: #""25%""#)
        #expect(DeploymentReplicas.fenceposts(defaults) == (3, 2))
        #expect(DeploymentReplicas.fenceposts(try deployment(3, surge: "0", unavailable: "0")) == (0, 1))
        #expect(DeploymentReplicas.maxUnavailable(try deployment(2, surge: "1", unavailable: "5")) == 2)
    }
}
