@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Server
import ServerTestSupport
import Storage
import Testing
import TestSupport

/// Keys in kube-apiserver's etcd layout (issue 19: `/registry/<resource>/<ns>/<name>`, with its
/// legacy prefixes), and the move of a store an earlier swiftlet wrote under
/// `/registry/<group>/<resource>/`: on SQLite and on a real etcd.
@Suite(.requires(TestEtcd.isInstalled, "needs etcd (Debian's etcd-server)"))
struct StorageLayoutTests {
    @Test func keysAreKubeApiserversWithItsLegacyPrefixes() throws {
        let registry = ResourceRegistry()
        func prefix(_ group: String, _ name: String) -> String? {
            registry.resources.first { $0.group == group && $0.name == name }?.keyPrefix
        }
        // As `etcdctl get --prefix --keys-only /registry/` lists a Kubernetes cluster.
        #expect(prefix("", "pods") == "/registry/pods/")
        #expect(prefix("", "nodes") == "/registry/minions/")
        #expect(prefix("", "services") == "/registry/services/specs/")
        #expect(prefix("", "endpoints") == "/registry/services/endpoints/")
        #expect(prefix("", "replicationcontrollers") == "/registry/controllers/")
        #expect(prefix("apps", "deployments") == "/registry/deployments/")
        #expect(prefix("coordination.k8s.io", "leases") == "/registry/leases/")
        #expect(prefix("networking.k8s.io", "ingresses") == "/registry/ingress/")
        #expect(prefix("discovery.k8s.io", "endpointslices") == "/registry/endpointslices/")
        #expect(prefix("events.k8s.io", "events") == "/registry/events/")
        // No resource lists another's objects: no prefix starts another (services/specs/ and
        // services/endpoints/ share `services/` but neither is the other's prefix).
        let prefixes = Set(registry.resources.map(\.keyPrefix))
        for one in prefixes {
            for other in prefixes where other != one {
                #expect(!other.hasPrefix(one), "\(one) lists \(other)")
            }
        }
    }

    private static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// What an earlier swiftlet stored, by earlier key.
    private static let earlier: [String: String] = [
        "/registry/namespaces/specs": #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"specs","uid":"u-ns"}}"#,
        "/registry/services/default/kubernetes": #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"kubernetes","namespace":"default","uid":"u-kubernetes"},"spec":{"clusterIP":"10.43.0.1","clusterIPs":["10.43.0.1"],"type":"ClusterIP","ports":[{"name":"https","port":443,"protocol":"TCP","targetPort":6443}]}}"#,
        // A namespace named like the new services prefix: still a Service of namespace `specs`.
        "/registry/services/specs/web": #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"specs","uid":"u-web"},"spec":{"clusterIP":"10.43.0.10","clusterIPs":["10.43.0.10"],"type":"ClusterIP","ports":[{"port":80,"protocol":"TCP","targetPort":80}]}}"#,
        "/registry/endpoints/specs/web": #"{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"web","namespace":"specs","uid":"u-ep"}}"#,
        "/registry/nodes/n1": #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","uid":"u-n1"}}"#,
        "/registry/apps/deployments/specs/app": #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"app","namespace":"specs","uid":"u-app","generation":1},"spec":{"replicas":1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}"#,
        "/registry/coordination.k8s.io/leases/kube-node-lease/n1": #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"n1","namespace":"kube-node-lease","uid":"u-lease"}}"#,
    ]

    /// Where each object must be served from afterwards: (group, resource, namespace, name, uid).
    private static let served: [(String, String, String?, String, String)] = [
        ("", "namespaces", nil, "specs", "u-ns"),
        ("", "services", "default", "kubernetes", "u-kubernetes"),
        ("", "services", "specs", "web", "u-web"),
        ("", "endpoints", "specs", "web", "u-ep"),
        ("", "nodes", nil, "n1", "u-n1"),
        ("apps", "deployments", "specs", "app", "u-app"),
        ("coordination.k8s.io", "leases", "kube-node-lease", "n1", "u-lease"),
    ]

    @Test(arguments: TestBackend.allCases)
    func aStoreOfTheEarlierLayoutIsMovedWhenTheServerStarts(_ backend: TestBackend) async throws {
        let scratch = try TemporaryDirectory()
        try await withTestStorage(backend, directory: scratch.path) { storage in
            for (key, value) in Self.earlier { _ = try await storage.create(key, value: Self.json(value)) }
            // Already in the new layout (written by a server that moved it): stays as it is.
            _ = try await storage.create("/registry/services/specs/default/moved",
                                         value: Self.json(#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"moved","namespace":"default","uid":"u-moved"},"spec":{"clusterIP":"None","clusterIPs":["None"],"type":"ClusterIP"}}"#))

            let plane = try await ControlPlane(storage: storage)
            for (group, name, namespace, objectName, uid) in Self.served + [("", "services", "default", "moved", "u-moved")] {
                let object = try await plane.service.store(group: group, name: name).find(namespace: namespace, name: objectName)
                #expect(object?.uid == uid, "\(group)/\(name) \(namespace ?? "")/\(objectName): \(object?.uid ?? "missing")")
            }
            // Nothing is left under an earlier key, and nothing was stored twice.
            let keys = try await storage.list(prefix: "/registry/").objects.map(\.key)
            for key in Self.earlier.keys where key != "/registry/namespaces/specs" {
                #expect(!keys.contains(key), "\(key) is still there")
            }
            #expect(!keys.contains { $0.hasPrefix("/registry/apps/") || $0.hasPrefix("/registry/nodes/") || $0.hasPrefix("/registry/endpoints/") })
            #expect(keys.contains("/registry/services/specs/specs/web") && keys.contains("/registry/minions/n1"), "\(keys)")
            // The bootstrap found the moved `kubernetes` Service (same uid above), and the
            // allocator rebuilt from the moved Services finds nothing wrong.
            #expect(try await plane.service.repairServiceAllocations() == [])
            let services = try await storage.list(prefix: "/registry/services/specs/default/").objects.map(\.key)
            #expect(services == ["/registry/services/specs/default/kubernetes", "/registry/services/specs/default/moved"])

            // A second start has nothing left to move.
            #expect(try await StorageLayoutMigration(storage: storage).run() == [])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aMoveStoppedHalfwayIsFinishedWithoutADuplicate(_ backend: TestBackend) async throws {
        let scratch = try TemporaryDirectory()
        try await withTestStorage(backend, directory: scratch.path) { storage in
            let node = Self.json(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","uid":"u-n1"}}"#)
            // Copied, then stopped before the old key was deleted.
            _ = try await storage.create("/registry/nodes/n1", value: node)
            let copied = try await storage.create("/registry/minions/n1", value: node)
            // A key with more segments than a node name under the earlier prefix is not a node: left alone.
            _ = try await storage.create("/registry/nodes/odd/key", value: node)

            let moves = try await StorageLayoutMigration(storage: storage).run()
            #expect(moves == [StorageLayoutMigration.Move(from: "/registry/nodes/n1", to: "/registry/minions/n1")])
            #expect(try await storage.get("/registry/nodes/n1") == nil)
            #expect(try await storage.get("/registry/minions/n1") == copied, "the copy made first is the one kept")
            #expect(try await storage.get("/registry/nodes/odd/key") != nil)
            #expect(try await storage.list(prefix: "/registry/minions/").objects.count == 1)
        }
    }
}
