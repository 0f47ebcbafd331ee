@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing
import TestSupport

/// Namespace deletion through Terminating, with real kubectl.
@Suite(.requires(Kubectl.isInstalled, "needs kubectl"))
struct NamespaceControllerTests {
    @Test func deletingANamespaceTerminatesItsContentsThenRemovesIt() async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl()
            let client = cluster.client
            try await cluster.addNode("n1")
            #expect(try await kubectl("create", "namespace", "doomed").status == 0)
            #expect(try await kubectl("create", "configmap", "settings", "-n", "doomed", "--from-literal=a=b").status == 0)
            let created = try await client.get(.namespaces, namespace: nil, name: "doomed")
            #expect(created?.value(at: ["spec", "finalizers"]) == .array([.string("kubernetes")]))
            try await cluster.addPod("worker", namespace: "doomed")
            _ = try await eventually({ try await cluster.pod("worker", namespace: "doomed")?.string(at: ["spec", "nodeName"]) },
                                     until: { $0 != nil })

            let deletion = try await kubectl("delete", "namespace", "doomed", "--wait=false")
            #expect(deletion.status == 0, "\(deletion.stderr)")
            #expect(deletion.stdout.contains("namespace \"doomed\" deleted"))
            let phase = try await kubectl("get", "namespace", "doomed", "-o", "jsonpath={.status.phase}")
            #expect(phase.stdout == "Terminating")
            let refused = try await kubectl("create", "configmap", "late", "-n", "doomed")
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("unable to create new content in namespace doomed because it is being terminated"))

            // Everything goes; the pod on a node terminates gracefully, as its agent would stop it.
            let configMapGone = try await eventually({ try await client.get(.configMaps, namespace: "doomed", name: "settings") },
                                                     until: { $0 == nil })
            #expect(configMapGone == nil)
            let terminating = try await eventually({ try await cluster.pod("worker", namespace: "doomed") }, until: { $0?.deletionTimestamp != nil })
            #expect(terminating?.deletionTimestamp != nil)
            #expect(try await client.get(.namespaces, namespace: nil, name: "doomed") != nil)

            // The agent finishes the pod: the namespace disappears.
            try await client.delete(.pods, namespace: "doomed", name: "worker", gracePeriodSeconds: 0)
            let gone = try await eventually({ try await client.get(.namespaces, namespace: nil, name: "doomed") }, until: { $0 == nil })
            #expect(gone == nil)
            let lookup = try await kubectl("get", "namespace", "doomed")
            #expect(lookup.stderr.contains("Error from server (NotFound): namespaces \"doomed\" not found"))
        }
    }

    @Test func kubectlDeleteWaitsForTheNamespaceAndSystemNamespacesStay() async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl()
            #expect(try await kubectl("create", "namespace", "brief").status == 0)
            #expect(try await kubectl("create", "configmap", "c", "-n", "brief").status == 0)
            let deletion = try await kubectl("delete", "namespace", "brief", "--timeout=20s")
            #expect(deletion.status == 0, "\(deletion.stderr)")
            #expect(try await cluster.client.get(.namespaces, namespace: nil, name: "brief") == nil)

            let forbidden = try await kubectl("delete", "namespace", "default")
            #expect(forbidden.status != 0)
            #expect(forbidden.stderr.contains("namespaces \"default\" is forbidden: this namespace may not be deleted"))
        }
    }
}
