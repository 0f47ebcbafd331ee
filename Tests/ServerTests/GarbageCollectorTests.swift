@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import ServerTestSupport
import Testing
import TestSupport

/// The garbage collector through real kubectl's `delete --cascade=background|foreground|orphan`.
/// Owners are ConfigMaps (no other controller acts on them); dependents are ConfigMaps and Pods.
@Suite(.requires(Kubectl.isInstalled, "needs kubectl"))
struct GarbageCollectorTests {
    private func configMap(_ name: String, owner: KubeObject? = nil, blockOwnerDeletion: Bool = true) -> KubeObject {
        var metadata: [String: JSONValue] = ["name": .string(name)]
        if let owner {
            metadata["ownerReferences"] = .array([ControllerTestCluster.ownerReference(to: owner, controller: false,
                                                                                       blockOwnerDeletion: blockOwnerDeletion)])
        }
        return KubeObject(fields: ["metadata": .object(metadata)])
    }

    private func exists(_ cluster: ControllerTestCluster, _ ref: ResourceRef, _ name: String) async throws -> Bool {
        try await cluster.client.get(ref, namespace: "default", name: name) != nil
    }

    @Test func backgroundDeletionRemovesDependentsAfterTheOwner() async throws {
        try await withServedControllerCluster { cluster in
            let client = cluster.client
            let parent = try await client.create(.configMaps, namespace: "default", configMap("parent"))
            _ = try await client.create(.configMaps, namespace: "default", configMap("child", owner: parent))
            try await cluster.addPod("child-pod", owner: parent)
            let grandchild = try #require(try await client.get(.configMaps, namespace: "default", name: "child"))
            _ = try await client.create(.configMaps, namespace: "default", configMap("grandchild", owner: grandchild))

            let output = try await cluster.kubectl()("delete", "configmap", "parent", "--cascade=background")
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout.contains("configmap \"parent\" deleted"))
            for (ref, name) in [(ResourceRef.configMaps, "child"), (.pods, "child-pod"), (.configMaps, "grandchild")] {
                let gone = try await eventually({ try await exists(cluster, ref, name) }, until: { !$0 })
                #expect(!gone, "\(name) should have been collected")
            }
        }
    }

    @Test func dependentsOfAnOwnerThatNeverExistedAreCollected() async throws {
        try await withServedControllerCluster { cluster in
            var ghost = configMap("ghost")
            ghost.fields["kind"] = .string("ConfigMap")
            ghost.fields["apiVersion"] = .string("v1")
            ghost.uid = "00000000-0000-0000-0000-000000000000"
            _ = try await cluster.client.create(.configMaps, namespace: "default", configMap("stray", owner: ghost))
            let gone = try await eventually({ try await exists(cluster, .configMaps, "stray") }, until: { !$0 })
            #expect(!gone)
        }
    }

    @Test func foregroundDeletionWaitsForBlockingDependents() async throws {
        try await withServedControllerCluster { cluster in
            let client = cluster.client
            try await cluster.addNode("n1")
            let parent = try await client.create(.configMaps, namespace: "default", configMap("parent"))
            _ = try await client.create(.configMaps, namespace: "default", configMap("loose", owner: parent, blockOwnerDeletion: false))
            try await cluster.addPod("held", owner: parent)
            _ = try await eventually({ try await cluster.pod("held")?.string(at: ["spec", "nodeName"]) }, until: { $0 != nil })

            let output = try await cluster.kubectl()("delete", "configmap", "parent", "--cascade=foreground", "--wait=false")
            #expect(output.status == 0, "\(output.stderr)")
            // The pod is on a node: it terminates gracefully, and the owner waits for it.
            let held = try await eventually({ try await cluster.pod("held") }, until: { $0?.deletionTimestamp != nil })
            #expect(held?.deletionTimestamp != nil)
            let loose = try await eventually({ try await exists(cluster, .configMaps, "loose") }, until: { !$0 })
            #expect(!loose)
            let waiting = try await client.get(.configMaps, namespace: "default", name: "parent")
            #expect(waiting?.deletionTimestamp != nil)
            #expect(waiting?.finalizers == ["foregroundDeletion"])

            // The kubelet finishes the pod; then the owner goes.
            try await client.delete(.pods, namespace: "default", name: "held", gracePeriodSeconds: 0)
            let parentGone = try await eventually({ try await exists(cluster, .configMaps, "parent") }, until: { !$0 })
            #expect(!parentGone)
        }
    }

    @Test func orphanDeletionKeepsDependentsWithoutTheReference() async throws {
        try await withServedControllerCluster { cluster in
            let client = cluster.client
            let parent = try await client.create(.configMaps, namespace: "default", configMap("parent"))
            _ = try await client.create(.configMaps, namespace: "default", configMap("kept", owner: parent))
            try await cluster.addPod("kept-pod", owner: parent)

            let output = try await cluster.kubectl()("delete", "configmap", "parent", "--cascade=orphan", "--timeout=30s")
            #expect(output.status == 0, "\(output.stderr)")
            #expect(try await exists(cluster, .configMaps, "parent") == false)
            let kept = try await client.get(.configMaps, namespace: "default", name: "kept")
            #expect(kept != nil)
            #expect(kept?.value(at: ["metadata", "ownerReferences"]) == nil)
            let pod = try await cluster.pod("kept-pod")
            #expect(pod != nil)
            #expect(pod?.value(at: ["metadata", "ownerReferences"]) == nil)
            // And they stay: nothing collects them later.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await exists(cluster, .configMaps, "kept"))
        }
    }

    @Test func deleteOptionsSetTheGarbageCollectionFinalizers() {
        #expect(ResourceStore.garbageCollectionFinalizers([], policy: nil) == [])
        #expect(ResourceStore.garbageCollectionFinalizers(["x"], policy: "Orphan") == ["x", "orphan"])
        #expect(ResourceStore.garbageCollectionFinalizers(["orphan"], policy: "Foreground") == ["foregroundDeletion"])
        #expect(ResourceStore.garbageCollectionFinalizers(["orphan", "x"], policy: "Background") == ["x"])
        #expect(ResourceStore.garbageCollectionFinalizers(["orphan"], policy: nil) == ["orphan"])
    }
}
