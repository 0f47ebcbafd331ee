@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

@Suite struct AuthTokenTests {
    @Test func joinSecretsAuthenticateOnlyTheCredentialEndpoint() async throws {
        try await withAuthServer { cluster in
            let secret = cluster.credentials.joinSecret
            #expect(try await cluster.call(secret, "GET", "/api/v1/pods").status == 401)
            let basic = Data("node:\(secret)".utf8).base64EncodedString()
            #expect(try await cluster.client.send("GET", "/api/v1/pods", headers: ["Authorization": "Basic \(basic)"]).status == 401)
            // Nor do node tokens or the admin token open the credential endpoint.
            let token = try await cluster.join("node-a")
            let withBearer = try await cluster.client.send("POST", "/v1-swiftlet/node-credential",
                                                           headers: ["Authorization": "Bearer \(cluster.credentials.adminToken)"],
                                                           body: Array(#"{"nodeName":"x","nodePassword":"password-of-the-machine"}"#.utf8))
            #expect(withBearer.status == 401)
            #expect(try await cluster.joinResponse("node-b", password: "password-of-the-machine", secret: "wrong").status == 401)
            #expect(try await cluster.joinResponse("node-b", password: "password-of-the-machine", secret: token).status == 401)
            #expect(try await cluster.client.send("GET", "/v1-swiftlet/node-credential").status == 405)
            let badName = try await cluster.joinResponse("Node_B", password: "password-of-the-machine", secret: secret)
            #expect(badName.status == 400)
            #expect(statusMessage(badName).hasPrefix(#"nodeName "Node_B" is not a valid node name: "#))
        }
    }

    @Test func nodeTokensAreReissuedOnRejoinAndThePasswordIsKept() async throws {
        try await withAuthServer { cluster in
            let first = try await cluster.join("node-a", password: "first-machine-password")
            #expect(try await cluster.call(first, "GET", "/api/v1/nodes").status == 200)
            let second = try await cluster.join("node-a", password: "first-machine-password")
            #expect(second != first)
            #expect(try await cluster.call(first, "GET", "/api/v1/nodes").status == 401)
            #expect(try await cluster.call(second, "GET", "/api/v1/nodes").status == 200)
            let impostor = try await cluster.joinResponse("node-a", password: "another-machine-password", secret: cluster.credentials.joinSecret)
            #expect(impostor.status == 403)
            #expect(statusMessage(impostor).contains("Node password rejected, duplicate hostname"))
            // A forged token for another node, or a tampered secret, is nobody.
            let forged = second.replacingOccurrences(of: "node:node-a:", with: "node:node-b:")
            #expect(try await cluster.call(forged, "GET", "/api/v1/nodes").status == 401)
            #expect(try await cluster.call(second + "0", "GET", "/api/v1/nodes").status == 401)
        }
    }

    @Test func bootstrapTokensJoinUntilTheyExpire() async throws {
        func secret(_ id: String, _ token: String, expires: Date) -> String {
            #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"bootstrap-token-\#(id)","namespace":"kube-system"},"type":"bootstrap.kubernetes.io/token","stringData":{"token-id":"\#(id)","token-secret":"\#(token)","expiration":"\#(Time(expires).description)","usage-bootstrap-authentication":"true"}}"#
        }
        let valid = secret("abcdef", "0123456789abcdef", expires: Date().addingTimeInterval(600))
        let expired = secret("zyxwvu", "0123456789abcdef", expires: Date().addingTimeInterval(-1))
        try await withAuthServer { cluster throws in
            let secrets = "/api/v1/namespaces/kube-system/secrets"
            #expect(try await cluster.admin("POST", secrets, valid).status == 201)
            #expect(try await cluster.admin("POST", secrets, expired).status == 201)
            #expect(try await cluster.joinResponse("node-a", password: "password-of-the-machine", secret: "abcdef.0123456789abcdef").status == 200)
            #expect(try await cluster.joinResponse("node-b", password: "password-of-the-machine", secret: "zyxwvu.0123456789abcdef").status == 401)
            #expect(try await cluster.joinResponse("node-b", password: "password-of-the-machine", secret: "abcdef.0123456789abcdee").status == 401)
            // Bootstrap tokens are join secrets, not API credentials.
            #expect(try await cluster.call("abcdef.0123456789abcdef", "GET", "/api/v1/pods").status == 401)
        }
    }

    @Test func tokenReviewsNameTheIdentityOfEachToken() async throws {
        @Sendable func review(_ token: String, as caller: String, in cluster: AuthHarness) async throws -> JSONValue {
            let response = try await cluster.call(caller, "POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                #"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"\#(token)"}}"#)
            guard response.status == 201 else { throw TestFailure("review: \(response.status) \(response.text)") }
            return try response.json()
        }
        try await withAuthServer { cluster in
            let node = try await cluster.join("node-a")
            let ofNode = try await review(node, as: node, in: cluster)
            #expect(ofNode["status"]?["authenticated"] == .bool(true))
            #expect(ofNode["status"]?["user"]?["username"]?.stringValue == "system:node:node-a")
            #expect(ofNode["status"]?["user"]?["groups"] == .array([.string("system:nodes"), .string("system:authenticated")]))
            #expect(ofNode["kind"]?.stringValue == "TokenReview")
            let ofAdmin = try await review(cluster.credentials.adminToken, as: node, in: cluster)
            #expect(ofAdmin["status"]?["user"]?["username"]?.stringValue == "system:admin")
            let ofKubeletClient = try await review(cluster.credentials.kubeletClientToken, as: cluster.credentials.adminToken, in: cluster)
            #expect(ofKubeletClient["status"]?["user"]?["username"]?.stringValue == "kube-apiserver-kubelet-client")
            #expect(ofKubeletClient["status"]?["user"]?["groups"]?.arrayValue?.contains(.string("system:masters")) == true)
            let ofJoinSecret = try await review(cluster.credentials.joinSecret, as: node, in: cluster)
            #expect(ofJoinSecret["status"]?["authenticated"] == .bool(false))
            // Reviews are not stored: only POST.
            #expect(try await cluster.call(node, "GET", "/apis/authentication.k8s.io/v1/tokenreviews").status == 405)
            #expect(try await cluster.client.send("POST", "/apis/authentication.k8s.io/v1/tokenreviews").status == 401)

            let groups = try await cluster.admin("GET", "/apis").json()
            #expect(groups["groups"]?.arrayValue?.contains { $0["name"]?.stringValue == "authentication.k8s.io" } == true)
            let resources = try await cluster.admin("GET", "/apis/authentication.k8s.io/v1").json()
            let tokenReviews = resources["resources"]?.arrayValue?.first { $0["name"]?.stringValue == "tokenreviews" }
            #expect(tokenReviews?["verbs"] == .array([.string("create")]))
            #expect(tokenReviews?["namespaced"] == .bool(false))
        }
    }

    @Test func theKubeletClientIdentityMayDoAnything() async throws {
        try await withAuthServer { cluster throws in
            let token = cluster.credentials.kubeletClientToken
            #expect(try await cluster.call(token, "GET", "/api/v1/namespaces/kube-system/secrets").status == 200)
            #expect(try await cluster.call(token, "POST", "/api/v1/namespaces/default/pods", pod("p", node: "any")).status == 201)
        }
    }

    @Test func interfaceAddressesIncludeLoopback() {
        let addresses = HostAddresses.ipv4()
        #expect(addresses.contains("127.0.0.1"))
        #expect(addresses.allSatisfy { ServerCertificates.ipBytes($0)?.count == 4 })
    }
}
