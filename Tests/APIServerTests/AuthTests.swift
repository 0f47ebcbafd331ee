@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// A server with the cluster's credentials (plain HTTP: authentication and authorization do
/// not depend on TLS), and requests as the admin or as nodes.
struct AuthHarness: Sendable {
    let client: HTTPTestClient
    let credentials: ClusterCredentials

    /// Joins `node` with the join secret and returns its bearer token.
    func join(_ node: String, password: String = "password-of-the-machine") async throws -> String {
        let response = try await joinResponse(node, password: password, secret: credentials.joinSecret)
        guard response.status == 200, let token = try response.json()["token"]?.stringValue else {
            throw TestFailure("join of \(node) failed: \(response.status) \(response.text)")
        }
        return token
    }

    func joinResponse(_ node: String, password: String, secret: String, user: String = "node") async throws -> HTTPTestResponse {
        let basic = Data("\(user):\(secret)".utf8).base64EncodedString()
        return try await client.send("POST", "/v1-swiftlet/node-credential",
                                     headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/json"],
                                     body: Array(#"{"nodeName":"\#(node)","nodePassword":"\#(password)"}"#.utf8))
    }

    /// A request with a bearer token and an optional JSON body.
    func call(_ token: String, _ method: String, _ path: String, _ body: String? = nil,
              contentType: String = "application/json") async throws -> HTTPTestResponse {
        var headers = ["Authorization": "Bearer \(token)"]
        if body != nil { headers["Content-Type"] = contentType }
        return try await client.send(method, path, headers: headers, body: Array((body ?? "").utf8))
    }

    func admin(_ method: String, _ path: String, _ body: String? = nil, contentType: String = "application/json") async throws -> HTTPTestResponse {
        try await call(credentials.adminToken, method, path, body, contentType: contentType)
    }
}

func withAuthServer<T: Sendable>(_ body: @Sendable (AuthHarness) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory()
    let credentials = try ClusterCredentials.loadOrCreate(directory: directory.path + "/cred")
    return try await withTestServer(authenticator: Authenticator(credentials: credentials)) { server in
        try await body(AuthHarness(client: server.client, credentials: credentials))
    }
}

/// The message of a Status answer.
func statusMessage(_ response: HTTPTestResponse) -> String {
    (try? response.json()["message"]?.stringValue) ?? response.text
}

/// A pod bound to `node`; a mirror pod carries the annotation and, with `ownerUID`, the
/// controller reference to its Node that kubelet gives it.
func pod(_ name: String, node: String, mirror: Bool = false, ownerUID: String? = nil) -> String {
    let annotations = mirror ? #","annotations":{"kubernetes.io/config.mirror":"abc"}"# : ""
    let owners = ownerUID.map { #","ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"\#(node)","uid":"\#($0)","controller":true}]"# } ?? ""
    return #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)"\#(annotations)\#(owners)},"spec":{"nodeName":"\#(node)","containers":[{"name":"c","image":"busybox"}]}}"#
}

@Suite struct AuthNodeRestrictionTests {
    @Test func aNodeChangesOnlyItsOwnNodeAndLease() async throws {
        try await withAuthServer { cluster in
            let a = try await cluster.join("node-a")
            let node = { (name: String) in #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"\#(name)"}}"# }
            #expect(try await cluster.call(a, "POST", "/api/v1/nodes", node("node-a")).status == 201)
            let other = try await cluster.call(a, "POST", "/api/v1/nodes", node("node-b"))
            #expect(other.status == 403)
            #expect(statusMessage(other) == #"nodes "node-b" is forbidden: node "node-a" is not allowed to modify node "node-b""#)
            #expect(try other.json()["reason"]?.stringValue == "Forbidden")

            #expect(try await cluster.admin("POST", "/api/v1/nodes", node("node-b")).status == 201)
            let merge = "application/merge-patch+json"
            let conditions = #"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#
            #expect(try await cluster.call(a, "PATCH", "/api/v1/nodes/node-a/status", conditions, contentType: merge).status == 200)
            #expect(try await cluster.call(a, "PATCH", "/api/v1/nodes/node-a", #"{"metadata":{"labels":{"x":"y"}}}"#, contentType: merge).status == 200)
            for path in ["/api/v1/nodes/node-b/status", "/api/v1/nodes/node-b"] {
                let denied = try await cluster.call(a, "PATCH", path, conditions, contentType: merge)
                #expect(denied.status == 403, "\(path)")
                #expect(statusMessage(denied) == #"nodes "node-b" is forbidden: node "node-a" is not allowed to modify node "node-b""#)
            }
            let delete = try await cluster.call(a, "DELETE", "/api/v1/nodes/node-a")
            #expect(statusMessage(delete) == #"nodes "node-a" is forbidden: User "system:node:node-a" cannot delete resource "nodes" in API group "" at the cluster scope"#)
            #expect(try await cluster.call(a, "GET", "/api/v1/nodes/node-b").status == 200)

            let lease = { (name: String) in
                #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"\#(name)"},"spec":{"holderIdentity":"\#(name)"}}"#
            }
            let leases = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
            let created = try await cluster.call(a, "POST", leases, lease("node-a"))
            #expect(created.status == 201)
            #expect(try await cluster.call(a, "GET", leases + "/node-a").status == 200)
            var renewed = KubeObject(fields: try created.json().objectValue ?? [:])
            renewed.set(.int(40), at: ["spec", "leaseDurationSeconds"])
            let update = try await cluster.call(a, "PUT", leases + "/node-a", String(decoding: renewed.serialized(), as: UTF8.self))
            #expect(update.status == 200)
            let foreign = try await cluster.call(a, "POST", leases, lease("node-b"))
            #expect(statusMessage(foreign) == #"leases.coordination.k8s.io "node-b" is forbidden: can only access node lease with the same name as the requesting node"#)
            let elsewhere = try await cluster.call(a, "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease("node-a"))
            #expect(statusMessage(elsewhere) == #"leases.coordination.k8s.io "node-a" is forbidden: can only access leases in the "kube-node-lease" namespace"#)
        }
    }

    @Test func aNodeWritesStatusOfAndDeletesOnlyItsOwnPods() async throws {
        try await withAuthServer { cluster in
            let a = try await cluster.join("node-a")
            let pods = "/api/v1/namespaces/default/pods"
            #expect(try await cluster.admin("POST", pods, pod("on-a", node: "node-a")).status == 201)
            #expect(try await cluster.admin("POST", pods, pod("on-b", node: "node-b")).status == 201)
            let merge = "application/merge-patch+json"
            let running = #"{"status":{"phase":"Running"}}"#
            #expect(try await cluster.call(a, "PATCH", pods + "/on-a/status", running, contentType: merge).status == 200)
            let foreign = try await cluster.call(a, "PATCH", pods + "/on-b/status", running, contentType: merge)
            #expect(foreign.status == 403)
            #expect(statusMessage(foreign) == #"pods "on-b" is forbidden: node "node-a" can only update pod status for pods with spec.nodeName set to itself"#)
            let spec = try await cluster.call(a, "PATCH", pods + "/on-a", #"{"metadata":{"labels":{"x":"y"}}}"#, contentType: merge)
            #expect(statusMessage(spec) == #"pods "on-a" is forbidden: User "system:node:node-a" cannot patch resource "pods" in API group "" in the namespace "default""#)
            let binding = try await cluster.call(a, "POST", pods + "/on-b/binding", #"{"target":{"name":"node-a"}}"#)
            #expect(statusMessage(binding) == #"pods "on-b" is forbidden: User "system:node:node-a" cannot create resource "pods/binding" in API group "" in the namespace "default""#)

            let deleteForeign = try await cluster.call(a, "DELETE", pods + "/on-b")
            #expect(statusMessage(deleteForeign) == #"pods "on-b" is forbidden: node "node-a" can only delete pods with spec.nodeName set to itself"#)
            #expect(try await cluster.call(a, "DELETE", pods + "/on-a").status == 200)
            #expect(try await cluster.call(a, "DELETE", pods + "/missing").status == 404)
            let collection = try await cluster.call(a, "DELETE", pods)
            #expect(statusMessage(collection) == #"pods is forbidden: User "system:node:node-a" cannot deletecollection resource "pods" in API group "" in the namespace "default""#)
        }
    }

    @Test func aNodeCreatesOnlyItsOwnMirrorPods() async throws {
        try await withAuthServer { cluster in
            let a = try await cluster.join("node-a")
            let pods = "/api/v1/namespaces/default/pods"
            let plain = try await cluster.call(a, "POST", pods, pod("web", node: "node-a"))
            #expect(statusMessage(plain) == #"pods "web" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "node-a" can only create mirror pods"#)
            let foreign = try await cluster.call(a, "POST", pods, pod("web", node: "node-b", mirror: true))
            #expect(statusMessage(foreign) == #"pods "web" is forbidden: node "node-a" can only create pods with spec.nodeName set to itself"#)
            // Owned by the node's own Node object, as kubelet makes them (NodeRestriction).
            let unowned = try await cluster.call(a, "POST", pods, pod("web-node-a", node: "node-a", mirror: true))
            #expect(statusMessage(unowned) == #"pods "web-node-a" is forbidden: node "node-a" can only create pods with an owner reference set to itself"#)
            let created = try await cluster.call(a, "POST", "/api/v1/nodes", #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"}}"#)
            let uid = try #require(try created.json()["metadata"]?["uid"]?.stringValue)
            #expect(try await cluster.call(a, "POST", pods, pod("web-node-a", node: "node-a", mirror: true, ownerUID: uid)).status == 201)
            #expect(try await cluster.call(a, "DELETE", pods + "/web-node-a").status == 200)
        }
    }

    @Test func aNodeReadsAllButUnrelatedSecretsAndWritesEvents() async throws {
        try await withAuthServer { cluster in
            let a = try await cluster.join("node-a")
            for path in ["/api/v1/pods", "/api/v1/namespaces/default/services", "/apis/apps/v1/deployments", "/api/v1/nodes?watch=1&timeoutSeconds=1"] {
                #expect(try await cluster.call(a, "GET", path).status == 200, "\(path)")
            }
            let secrets = try await cluster.call(a, "GET", "/api/v1/namespaces/kube-system/secrets")
            #expect(statusMessage(secrets) == #"secrets is forbidden: User "system:node:node-a" cannot list resource "secrets" in API group "" in the namespace "kube-system": No Object name found"#)
            let secret = try await cluster.call(a, "GET", "/api/v1/namespaces/kube-system/secrets/node-a.node-password.swiftlet")
            #expect(statusMessage(secret) == #"secrets "node-a.node-password.swiftlet" is forbidden: User "system:node:node-a" cannot get resource "secrets" in API group "" in the namespace "kube-system": no relationship found between node 'node-a' and this object"#)

            let event = #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e1"},"involvedObject":{"kind":"Node","name":"node-a"},"reason":"Starting","message":"hello"}"#
            #expect(try await cluster.call(a, "POST", "/api/v1/namespaces/default/events", event).status == 201)
            #expect(try await cluster.call(a, "PATCH", "/api/v1/namespaces/default/events/e1", #"{"count":2}"#,
                                           contentType: "application/merge-patch+json").status == 200)

            #expect(try await cluster.admin("POST", "/apis/apps/v1/namespaces/default/deployments",
                #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}"#).status == 201)
            let deployment = try await cluster.call(a, "DELETE", "/apis/apps/v1/namespaces/default/deployments/web")
            #expect(deployment.status == 403)
            #expect(statusMessage(deployment) == #"deployments.apps "web" is forbidden: User "system:node:node-a" cannot delete resource "deployments" in API group "apps" in the namespace "default""#)
            let namespace = try await cluster.call(a, "POST", "/api/v1/namespaces", #"{"metadata":{"name":"mine"}}"#)
            #expect(statusMessage(namespace) == #"namespaces is forbidden: User "system:node:node-a" cannot create resource "namespaces" in API group "" at the cluster scope"#)
        }
    }
}
