@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// pods/eviction over HTTP: discovery as kubectl drain looks for it, NodeRestriction's rule
/// (a node evicts only its own pods), the verbs served, and hostile bodies.
@Suite struct EvictionAPITests {
    static func eviction(_ name: String, kind: String = "Eviction") -> String {
        #"{"apiVersion":"policy/v1","kind":"\#(kind)","metadata":{"name":"\#(name)"}}"#
    }

    @Test func discoveryListsTheSubresourceAndTheBudgets() async throws {
        try await withTestServer { server in
            let core = try await server.client.send("GET", "/api/v1").json()
            let eviction = core["resources"]?.arrayValue?.first { $0["name"]?.stringValue == "pods/eviction" }
            #expect(eviction?["group"]?.stringValue == "policy" && eviction?["version"]?.stringValue == "v1"
                    && eviction?["kind"]?.stringValue == "Eviction" && eviction?["verbs"] == .array([.string("create")]), "\(String(describing: eviction))")
            let policy = try await server.client.send("GET", "/apis/policy/v1").json()
            let names = policy["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["poddisruptionbudgets", "poddisruptionbudgets/status"])
            let budgets = policy["resources"]?.arrayValue?.first
            #expect(budgets?["shortNames"] == .array([.string("pdb")]) && budgets?["kind"]?.stringValue == "PodDisruptionBudget")
            let groups = try await server.client.send("GET", "/apis").json()["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            let index = groups.firstIndex(of: "policy"), networking = groups.firstIndex(of: "networking.k8s.io")
            #expect(index != nil && networking != nil && index! > networking!, "\(groups)")
        }
    }

    @Test func aNodeEvictsOnlyItsOwnPods() async throws {
        try await withAuthServer { cluster in
            let a = try await cluster.join("node-a")
            let pods = "/api/v1/namespaces/default/pods"
            #expect(try await cluster.admin("POST", pods, pod("on-a", node: "node-a")).status == 201)
            #expect(try await cluster.admin("POST", pods, pod("on-b", node: "node-b")).status == 201)
            let foreign = try await cluster.call(a, "POST", pods + "/on-b/eviction", Self.eviction("on-b"))
            #expect(foreign.status == 403)
            #expect(statusMessage(foreign) == #"pods "on-b" is forbidden: node node-a can only evict pods with spec.nodeName set to itself"#)
            let own = try await cluster.call(a, "POST", pods + "/on-a/eviction", Self.eviction("on-a"))
            #expect(own.status == 201, "\(own.text)")
            #expect(try own.json()["status"]?.stringValue == "Success")
            #expect(try await cluster.call(a, "POST", pods + "/missing/eviction", Self.eviction("missing")).status == 404)
        }
    }

    /// Service accounts have no RBAC: they read, and may not evict (upstream's `view` role has
    /// no pods/eviction either).
    @Test func aServiceAccountMayNotEvict() async throws {
        try await withHostileCluster { api in
            let token = try TokenRequestTests.token(try await api.admin("POST", TokenRequestTests.accounts + "/default/token", TokenRequestTests.tokenRequest()))
            #expect(try await api.admin("POST", TokenRequestTests.pods, pod("web", node: "n1")).status == 201)
            let refused = try await api.client.call(token, "POST", TokenRequestTests.pods + "/web/eviction", Self.eviction("web"))
            #expect(refused.status == 403)
            #expect(statusMessage(refused) == #"pods "web" is forbidden: User "system:serviceaccount:default:default" cannot create resource "pods/eviction" in API group "" in the namespace "default""#,
                    "\(refused.text)")
            #expect(try await api.admin("GET", TokenRequestTests.pods + "/web").json()["metadata"]?["deletionTimestamp"] == nil)
        }
    }

    @Test func hostileEvictionRequests() async throws {
        try await withTestServer { server in
            let pods = "/api/v1/namespaces/default/pods"
            let created = try await server.client.send("POST", pods, json: try JSONParser.parse(Array(pod("web", node: "n1").utf8)))
            #expect(created.status == 201)
            #expect(try await server.client.send("GET", pods + "/web/eviction").status == 405)
            #expect(try await server.client.send("DELETE", pods + "/web/eviction").status == 405)
            let wrongKind = try await server.client.send("POST", pods + "/web/eviction", headers: ["Content-Type": "application/json"],
                                                         body: Array(Self.eviction("web", kind: "Pod").utf8))
            #expect(wrongKind.status == 400 && statusMessage(wrongKind).contains("the kind in the data (Pod)"), "\(wrongKind.text)")
            let yaml = try await server.client.send("POST", pods + "/web/eviction", headers: ["Content-Type": "application/json"],
                                                    body: Array("apiVersion: policy/v1\nkind: Eviction\n".utf8))
            #expect(yaml.status == 400 && statusMessage(yaml).hasPrefix("the object provided is unrecognized (must be of type Eviction)"), "\(yaml.text)")
            let array = try await server.client.send("POST", pods + "/web/eviction", headers: ["Content-Type": "application/json"], body: Array("[1,2]".utf8))
            #expect(array.status == 400, "\(array.text)")
            let empty = try await server.client.send("POST", pods + "/web/eviction", headers: ["Content-Type": "application/json"])
            #expect(empty.status == 400, "\(empty.text)")
            let longName = String(repeating: "x", count: 300)
            let missing = try await server.client.send("POST", pods + "/\(longName)/eviction", headers: ["Content-Type": "application/json"],
                                                       body: Array(Self.eviction(longName).utf8))
            #expect(missing.status == 404, "\(missing.status)")
            // Nothing was deleted by the refusals.
            #expect(try await server.client.send("GET", pods + "/web").json()["metadata"]?["deletionTimestamp"] == nil)
            let evicted = try await server.client.send("POST", pods + "/web/eviction?dryRun=All", headers: ["Content-Type": "application/json"],
                                                       body: Array(Self.eviction("web").utf8))
            #expect(evicted.status == 201)
            #expect(try await server.client.send("GET", pods + "/web").json()["metadata"]?["deletionTimestamp"] == nil, "a dry run deletes nothing")
            // A grace period of Int64.max seconds (also through a plain DELETE) puts the deadline
            // at the last instant RFC 3339 can write instead of trapping the server.
            let huge = try await server.client.send("DELETE", pods + "/web?gracePeriodSeconds=9223372036854775807")
            #expect(huge.status == 200, "\(huge.text)")
            let marked = try await server.client.send("GET", pods + "/web").json()
            #expect(marked["metadata"]?["deletionTimestamp"]?.stringValue == "9999-12-31T23:59:59Z", "\(marked)")
        }
    }
}
