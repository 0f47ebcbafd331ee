@testable import APIMachinery
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// Issue 16: `serviceaccounts/token` (TokenRequest) over HTTPS, the tokens it makes
/// authenticating as their service account, bound tokens dying with their pod, the Node
/// authorizer's and NodeRestriction's rules for nodes, and what a service account may do.
@Suite struct TokenRequestTests {
    static let accounts = "/api/v1/namespaces/default/serviceaccounts"
    static let pods = "/api/v1/namespaces/default/pods"

    static func pod(_ name: String, node: String? = nil, account: String = "default") -> String {
        let nodeField = node.map { #""nodeName":"\#($0)","# } ?? ""
        return #"{"metadata":{"name":"\#(name)"},"spec":{\#(nodeField)"serviceAccountName":"\#(account)","containers":[{"name":"c","image":"busybox"}]}}"#
    }

    static func tokenRequest(seconds: Int? = nil, audiences: [String]? = nil, bound: String? = nil) -> String {
        var spec: [String] = []
        if let seconds { spec.append(#""expirationSeconds":\#(seconds)"#) }
        if let audiences { spec.append(#""audiences":[\#(audiences.map { "\"\($0)\"" }.joined(separator: ","))]"#) }
        if let bound { spec.append(#""boundObjectRef":\#(bound)"#) }
        return #"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{\#(spec.joined(separator: ","))}}"#
    }

    /// The claims of a token, read without checking it.
    static func claims(_ token: String) throws -> JSONValue {
        let parts = token.split(separator: ".")
        return try JSONParser.parse(try #require(Base64URL.decode(parts[1])))
    }

    static func token(_ response: HTTPTestResponse) throws -> String {
        try #require(try response.json()["status"]?["token"]?.stringValue, "\(response.status) \(response.text)")
    }

    @Test func anAdminGetsATokenThatAuthenticatesAsTheServiceAccount() async throws {
        try await withHostileCluster { api in
            let started = Date()
            let response = try await api.admin("POST", Self.accounts + "/default/token", Self.tokenRequest())
            #expect(response.status == 201, "\(response.text)")
            let body = try response.json()
            #expect(body["kind"] == .string("TokenRequest") && body["apiVersion"] == .string("authentication.k8s.io/v1"))
            #expect(body["metadata"]?["name"] == .string("default") && body["metadata"]?["namespace"] == .string("default"))
            #expect(body["spec"]?["expirationSeconds"] == .int(3600))
            #expect(body["spec"]?["audiences"] == .array([.string("https://kubernetes.default.svc.cluster.local")]))
            let expires = try #require(body["status"]?["expirationTimestamp"]?.stringValue.flatMap(Time.init(rfc3339:)))
            #expect(abs(expires.date.timeIntervalSince(started) - 3600) < 5)
            let token = try Self.token(response)
            let claims = try Self.claims(token)
            let account = try await api.admin("GET", Self.accounts + "/default").json()
            #expect(claims["sub"] == .string("system:serviceaccount:default:default"))
            #expect(claims["kubernetes.io"]?["serviceaccount"]?["uid"] == account["metadata"]?["uid"])
            #expect(claims["kubernetes.io"]?["pod"] == nil)

            // It reads what `kubectl get` shows...
            #expect(try await api.client.call(token, "GET", Self.pods).status == 200)
            #expect(try await api.client.call(token, "GET", "/api/v1/namespaces/kube-system/configmaps").status == 200)
            #expect(try await api.client.call(token, "GET", "/apis/apps/v1/deployments?watch=1&timeoutSeconds=1").status == 200)
            // ...and nothing more: no Secrets, no writes, no tokens.
            let secrets = try await api.client.call(token, "GET", "/api/v1/namespaces/default/secrets")
            #expect(secrets.status == 403)
            #expect(message(secrets) == #"secrets is forbidden: User "system:serviceaccount:default:default" cannot list resource "secrets" in API group "" in the namespace "default""#)
            let write = try await api.client.call(token, "POST", "/api/v1/namespaces/default/configmaps", #"{"metadata":{"name":"x"}}"#)
            #expect(write.status == 403)
            #expect(message(write) == #"configmaps is forbidden: User "system:serviceaccount:default:default" cannot create resource "configmaps" in API group "" in the namespace "default""#)
            #expect(try await api.client.call(token, "POST", Self.accounts + "/default/token", Self.tokenRequest()).status == 403)

            // A TokenReview says who it is, as kube-apiserver does.
            let review = try await api.admin("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                                             #"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"\#(token)"}}"#).json()
            #expect(review["status"]?["authenticated"] == .bool(true))
            #expect(review["status"]?["user"]?["username"] == .string("system:serviceaccount:default:default"))
            #expect(review["status"]?["user"]?["groups"] == .array(["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"].map { .string($0) }))
            #expect(review["status"]?["user"]?["uid"] == account["metadata"]?["uid"])

            // Deleting the account kills its tokens; a new account of the same name does not revive them.
            #expect(try await api.admin("DELETE", Self.accounts + "/default").status == 200)
            #expect(try await api.client.call(token, "GET", Self.pods).status == 401)
            #expect(try await api.admin("POST", Self.accounts, #"{"metadata":{"name":"default"}}"#).status == 201)
            #expect(try await api.client.call(token, "GET", Self.pods).status == 401)
        }
    }

    @Test func requestsAreValidatedWithKubeApiserversMessages() async throws {
        try await withHostileCluster { api in
            let path = Self.accounts + "/default/token"
            let short = try await api.admin("POST", path, Self.tokenRequest(seconds: 599))
            #expect(short.status == 422)
            #expect(message(short) == #"TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes"#)
            let long = try await api.admin("POST", path, Self.tokenRequest(seconds: 1 << 33))
            #expect(message(long).hasSuffix("may not specify a duration larger than 2^32 seconds"))
            let minimum = try await api.admin("POST", path, Self.tokenRequest(seconds: 600))
            #expect(minimum.status == 201)
            let claims = try Self.claims(try Self.token(minimum))
            #expect(claims["exp"]?.intValue == (claims["iat"]?.intValue ?? 0) + 600)

            let missing = try await api.admin("POST", Self.accounts + "/nobody/token", Self.tokenRequest())
            #expect(missing.status == 404)
            #expect(message(missing) == #"serviceaccounts "nobody" not found"#)
            let renamed = try await api.admin("POST", path, #"{"metadata":{"name":"other"},"spec":{}}"#)
            #expect(renamed.status == 422)
            #expect(message(renamed).contains("metadata.name: Invalid value: \"other\": must match the service account name if specified"))
            #expect(try await api.admin("GET", path).status == 405)
            #expect(try await api.admin("POST", path, "{not json").status == 400)
            #expect(try await api.admin("POST", path, "[]").status == 400)
            #expect(try await api.admin("POST", path, #"{"spec":{"expirationSeconds":"soon"}}"#).status == 400)
            #expect(try await api.admin("POST", path, #"{"spec":{"audiences":"x"}}"#).status == 400)
            #expect(try await api.admin("POST", path, bytes: nil).status == 400)

            // Another audience: a token for someone else, which this server does not accept.
            let vault = try Self.token(try await api.admin("POST", path, Self.tokenRequest(audiences: ["vault"])))
            #expect(try Self.claims(vault)["aud"] == .array([.string("vault")]))
            #expect(try await api.client.call(vault, "GET", Self.pods).status == 401)
            try await api.expectStoreReadable()
        }
    }

    @Test func aPodBoundTokenLivesAsLongAsItsPod() async throws {
        try await withHostileCluster { api in
            #expect(try await api.admin("POST", Self.accounts, #"{"metadata":{"name":"builder"}}"#).status == 201)
            let created = try await api.admin("POST", Self.pods, Self.pod("web", account: "builder"))
            #expect(created.status == 201, "\(created.text)")
            let uid = try #require(try created.json()["metadata"]?["uid"]?.stringValue)
            let bound = #"{"apiVersion":"v1","kind":"Pod","name":"web","uid":"\#(uid)"}"#
            let path = Self.accounts + "/builder/token"
            let response = try await api.admin("POST", path, Self.tokenRequest(bound: bound))
            #expect(response.status == 201, "\(response.text)")
            #expect(try response.json()["spec"]?["boundObjectRef"]?["uid"] == .string(uid))
            let token = try Self.token(response)
            #expect(try Self.claims(token)["kubernetes.io"]?["pod"] == .object(["name": .string("web"), "uid": .string(uid)]))

            // The projected volume's 3607 s for the API server: a year, with warnafter at the hour.
            let extended = try await api.admin("POST", path, Self.tokenRequest(seconds: 3607, bound: bound))
            let claims = try Self.claims(try Self.token(extended))
            let issued = claims["iat"]?.intValue ?? 0
            #expect(claims["exp"]?.intValue == issued + 365 * 86400)
            #expect(claims["kubernetes.io"]?["warnafter"]?.intValue == issued + 3607)
            #expect(try extended.json()["spec"]?["expirationSeconds"] == .int(3607))

            // The wrong account, kind, uid, or a pod that is not there.
            let wrongAccount = try await api.admin("POST", Self.accounts + "/default/token", Self.tokenRequest(bound: bound))
            #expect(wrongAccount.status == 400)
            #expect(message(wrongAccount) == #"cannot bind token for serviceaccount "default" to pod running with different serviceaccount name."#)
            let wrongKind = try await api.admin("POST", path, Self.tokenRequest(bound: #"{"apiVersion":"apps/v1","kind":"Deployment","name":"web"}"#))
            #expect(wrongKind.status == 400)
            #expect(message(wrongKind) == "cannot bind token to object of type apps/v1, Kind=Deployment")
            let wrongUID = try await api.admin("POST", path, Self.tokenRequest(bound: #"{"apiVersion":"v1","kind":"Pod","name":"web","uid":"0000"}"#))
            #expect(wrongUID.status == 409)
            #expect(message(wrongUID).contains("the UID in the bound object reference (0000) does not match the UID in record"))
            #expect(try await api.admin("POST", path, Self.tokenRequest(bound: #"{"apiVersion":"v1","kind":"Pod","name":"gone"}"#)).status == 404)

            // Secret-bound tokens die with their Secret.
            let secret = try await api.admin("POST", "/api/v1/namespaces/default/secrets", #"{"metadata":{"name":"s"},"stringData":{"k":"v"}}"#).json()
            let secretUID = secret["metadata"]?["uid"]?.stringValue ?? ""
            let secretToken = try Self.token(try await api.admin("POST", path, Self.tokenRequest(bound: #"{"apiVersion":"v1","kind":"Secret","name":"s","uid":"\#(secretUID)"}"#)))
            #expect(try await api.client.call(secretToken, "GET", Self.pods).status == 200)
            #expect(try await api.admin("DELETE", "/api/v1/namespaces/default/secrets/s").status == 200)
            #expect(try await api.client.call(secretToken, "GET", Self.pods).status == 401)

            #expect(try await api.client.call(token, "GET", Self.pods).status == 200)
            // An unscheduled pod is deleted at once: its tokens stop working.
            #expect(try await api.admin("DELETE", Self.pods + "/web").status == 200)
            #expect(try await api.client.call(token, "GET", Self.pods).status == 401)
            // A new pod of the same name has another uid.
            #expect(try await api.admin("POST", Self.pods, Self.pod("web", account: "builder")).status == 201)
            #expect(try await api.client.call(token, "GET", Self.pods).status == 401)
        }
    }

    @Test func aNodeGetsTokensOnlyForPodsBoundToItBoundToThatPod() async throws {
        try await withHostileCluster { api in
            let a = try await api.join("node-a")
            let b = try await api.join("node-b")
            for account in ["sa-a", "sa-unused"] {
                #expect(try await api.admin("POST", Self.accounts, #"{"metadata":{"name":"\#(account)"}}"#).status == 201)
            }
            let podA = try await api.admin("POST", Self.pods, Self.pod("on-a", node: "node-a", account: "sa-a")).json()
            let podB = try await api.admin("POST", Self.pods, Self.pod("on-b", node: "node-b", account: "sa-a")).json()
            let uidA = podA["metadata"]?["uid"]?.stringValue ?? ""
            let uidB = podB["metadata"]?["uid"]?.stringValue ?? ""
            let path = Self.accounts + "/sa-a/token"

            let good = try await api.client.call(a, "POST", path, Self.tokenRequest(seconds: 3607, bound: #"{"apiVersion":"v1","kind":"Pod","name":"on-a","uid":"\#(uidA)"}"#))
            #expect(good.status == 201, "\(good.text)")
            let token = try Self.token(good)
            let nodeUID = try await api.admin("GET", "/api/v1/nodes/node-a").json()["metadata"]?["uid"]
            // The node joined without a Node object here: the claim names it once there is one.
            let claims = try Self.claims(token)
            #expect(claims["kubernetes.io"]?["pod"]?["name"] == .string("on-a"))
            #expect(nodeUID == nil || claims["kubernetes.io"]?["node"]?["uid"] == nodeUID)
            #expect(try await api.client.call(token, "GET", Self.pods).status == 200)

            func expectRefused(_ token: String, _ account: String, _ body: String, _ expected: String) async throws {
                let response = try await api.client.call(token, "POST", Self.accounts + "/\(account)/token", body)
                #expect(response.status == 403, "\(response.text)")
                #expect(message(response) == expected)
            }
            try await expectRefused(a, "sa-a", Self.tokenRequest(),
                                    #"serviceaccounts "sa-a" is forbidden: node requested token not bound to a pod"#)
            try await expectRefused(a, "sa-a", Self.tokenRequest(bound: #"{"apiVersion":"v1","kind":"Pod","name":"on-a"}"#),
                                    #"serviceaccounts "sa-a" is forbidden: node requested token with a pod binding without a uid"#)
            try await expectRefused(a, "sa-a", Self.tokenRequest(bound: #"{"apiVersion":"v1","kind":"Secret","name":"x","uid":"1"}"#),
                                    #"serviceaccounts "sa-a" is forbidden: node requested token not bound to a pod"#)
            try await expectRefused(a, "sa-a", Self.tokenRequest(bound: #"{"apiVersion":"v1","kind":"Pod","name":"on-b","uid":"\#(uidB)"}"#),
                                    #"serviceaccounts "sa-a" is forbidden: node requested token bound to a pod scheduled on a different node"#)
            try await expectRefused(a, "sa-a", Self.tokenRequest(bound: #"{"apiVersion":"v1","kind":"Pod","name":"on-a","uid":"\#(uidB)"}"#),
                                    #"serviceaccounts "sa-a" is forbidden: the UID in the bound object reference (\#(uidB)) does not match the UID in record. The object might have been deleted and then recreated"#)
            // No pod of node-a uses these accounts: the authorizer refuses before the body is read.
            try await expectRefused(a, "sa-unused", Self.tokenRequest(bound: #"{"apiVersion":"v1","kind":"Pod","name":"on-a","uid":"\#(uidA)"}"#),
                                    #"serviceaccounts "sa-unused" is forbidden: User "system:node:node-a" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default": no relationship found between node 'node-a' and this object"#)
            try await expectRefused(a, "default", Self.tokenRequest(),
                                    #"serviceaccounts "default" is forbidden: User "system:node:node-a" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default": no relationship found between node 'node-a' and this object"#)
            // node-b may for its own pod.
            #expect(try await api.client.call(b, "POST", path, Self.tokenRequest(bound: #"{"apiVersion":"v1","kind":"Pod","name":"on-b","uid":"\#(uidB)"}"#)).status == 201)
        }
    }
}
