@testable import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Logging
import Testing

/// Issue 16: the root-ca-cert-publisher keeps `kube-root-ca.crt` in every namespace, and the
/// serviceaccounts controller keeps the `default` ServiceAccount.
@Suite struct ServiceAccountControllersTests {
    static let caPEM = "-----BEGIN CERTIFICATE-----\nTUlJQ1Rlc3RDQQ==\n-----END CERTIFICATE-----\n"
    static let serviceAccounts = ResourceRef(group: "", name: "serviceaccounts")

    static var settings: ControllerSettings {
        var settings = ControllerSettings.forTests
        settings.rootCACertificatePEM = caPEM
        return settings
    }

    static func rootCA(_ cluster: ControllerTestCluster, _ namespace: String) async throws -> KubeObject? {
        try await cluster.client.get(.configMaps, namespace: namespace, name: "kube-root-ca.crt")
    }

    static func holdsCA(_ object: KubeObject?) -> Bool {
        object?.fields["data"] == .object(["ca.crt": .string(caPEM)])
            && object?.annotations["kubernetes.io/description"] == RootCACertPublisher.description
    }

    @Test func everyNamespaceGetsTheCAConfigMapAndKeepsIt() async throws {
        try await withControllerCluster(settings: Self.settings) { cluster in
            for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
                let found = try await eventually({ try await Self.rootCA(cluster, namespace) }, until: Self.holdsCA)
                #expect(Self.holdsCA(found), "\(namespace)")
            }
            _ = try await cluster.client.create(.namespaces, namespace: nil, KubeObject.named("team", namespace: nil, apiVersion: "v1", kind: "Namespace"))
            #expect(Self.holdsCA(try await eventually({ try await Self.rootCA(cluster, "team") }, until: Self.holdsCA)))

            // Changed: the data is put back (other annotations and labels are kept).
            var changed = try #require(try await Self.rootCA(cluster, "team"))
            changed.fields["data"] = .object(["ca.crt": .string("forged"), "extra": .string("x")])
            changed.set(.object(["mine": .string("yes")]), at: ["metadata", "labels"])
            _ = try await cluster.client.update(.configMaps, changed)
            let restored = try await eventually({ try await Self.rootCA(cluster, "team") }, until: Self.holdsCA)
            #expect(Self.holdsCA(restored))
            #expect(restored?.labels == ["mine": "yes"])

            // Deleted: made again.
            _ = try await cluster.client.delete(.configMaps, namespace: "team", name: "kube-root-ca.crt")
            #expect(Self.holdsCA(try await eventually({ try await Self.rootCA(cluster, "team") }, until: Self.holdsCA)))
        }
    }

    @Test func withoutACANoConfigMapIsPublished() async throws {
        try await withControllerCluster { cluster in
            // The serviceaccounts controller runs either way: wait for it to have seen a namespace.
            _ = try await cluster.client.delete(Self.serviceAccounts, namespace: "kube-public", name: "default")
            _ = try await eventually({ try await cluster.client.get(Self.serviceAccounts, namespace: "kube-public", name: "default") },
                                     until: { $0 != nil })
            #expect(try await Self.rootCA(cluster, "default") == nil)
        }
    }

    @Test func theDefaultServiceAccountComesBackWhenDeleted() async throws {
        try await withControllerCluster(settings: Self.settings) { cluster in
            let first = try #require(try await cluster.client.get(Self.serviceAccounts, namespace: "default", name: "default"))
            _ = try await cluster.client.delete(Self.serviceAccounts, namespace: "default", name: "default")
            let back = try await eventually({ try await cluster.client.get(Self.serviceAccounts, namespace: "default", name: "default") },
                                            until: { $0 != nil })
            #expect(back != nil)
            #expect(back?.uid != first.uid)
            // Other accounts are not the controller's to keep.
            _ = try await cluster.client.create(Self.serviceAccounts, namespace: "default",
                                                KubeObject.named("builder", namespace: "default", apiVersion: "v1", kind: "ServiceAccount"))
            _ = try await cluster.client.delete(Self.serviceAccounts, namespace: "default", name: "builder")
            _ = try await cluster.client.delete(Self.serviceAccounts, namespace: "default", name: "default")
            _ = try await eventually({ try await cluster.client.get(Self.serviceAccounts, namespace: "default", name: "default") },
                                     until: { $0 != nil })
            #expect(try await cluster.client.get(Self.serviceAccounts, namespace: "default", name: "builder") == nil)
        }
    }

    /// The API server makes `default` with the namespace while the controller, seeing the
    /// namespace appear, may make it first: the namespace create must not fail either way.
    @Test func creatingNamespacesRacesTheControllerHarmlessly() async throws {
        try await withControllerCluster(settings: Self.settings) { cluster in
            for index in 0..<40 {
                _ = try await cluster.client.create(.namespaces, namespace: nil,
                                                    KubeObject.named("race-\(index)", namespace: nil, apiVersion: "v1", kind: "Namespace"))
                // Give the controller's informer a moment to see it before the next one.
                if index % 4 == 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            for index in 0..<40 {
                #expect(try await cluster.client.get(Self.serviceAccounts, namespace: "race-\(index)", name: "default") != nil)
            }
        }
    }

    @Test func aTerminatingNamespaceGetsNothingNew() async throws {
        try await withTestAPI { api in
            // A namespace held in Terminating by a ConfigMap with a finalizer, without its
            // `default` account; the two controllers' syncs run on it directly.
            _ = try await api.client.create(.namespaces, namespace: nil, KubeObject.named("going", namespace: nil, apiVersion: "v1", kind: "Namespace"))
            var held = KubeObject.named("held", namespace: "going", apiVersion: "v1", kind: "ConfigMap")
            held.set(.array([.string("test.swiftlet.dev/hold")]), at: ["metadata", "finalizers"])
            _ = try await api.client.create(.configMaps, namespace: "going", held)
            _ = try await api.client.delete(Self.serviceAccounts, namespace: "going", name: "default")
            _ = try await api.client.delete(.namespaces, namespace: nil, name: "going")
            let informers = Informers(client: api.client, logger: Logger(label: "test"))
            let publisher = RootCACertPublisher(client: api.client, informers: informers, caPEM: Self.caPEM, logger: Logger(label: "test"))
            let accounts = ServiceAccountsController(client: api.client, informers: informers, logger: Logger(label: "test"))
            let tasks = informers.all.map { informer in Task { await informer.run() } }
            for informer in informers.all { await informer.waitForSync() }
            try await publisher.sync(namespace: "going")
            try await accounts.sync(namespace: "going")
            #expect(try await api.client.get(.namespaces, namespace: nil, name: "going")?.deletionTimestamp != nil)
            #expect(try await api.client.get(.configMaps, namespace: "going", name: "kube-root-ca.crt") == nil)
            #expect(try await api.client.get(Self.serviceAccounts, namespace: "going", name: "default") == nil)
            // The same syncs on an active namespace do make them (the check above can fail).
            _ = try await api.client.delete(Self.serviceAccounts, namespace: "kube-public", name: "default")
            try await eventuallyGone(informers, namespace: "kube-public")
            try await publisher.sync(namespace: "kube-public")
            try await accounts.sync(namespace: "kube-public")
            #expect(Self.holdsCA(try await api.client.get(.configMaps, namespace: "kube-public", name: "kube-root-ca.crt")))
            #expect(try await api.client.get(Self.serviceAccounts, namespace: "kube-public", name: "default") != nil)
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
        }
    }

    /// Waits until the informer no longer holds kube-public's `default` account.
    private func eventuallyGone(_ informers: Informers, namespace: String) async throws {
        let informer = informers.informer(Self.serviceAccounts)
        _ = try await eventually({ informer.get(namespace: namespace, name: "default") }, until: { $0 == nil })
    }
}
