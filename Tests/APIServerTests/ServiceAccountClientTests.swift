@testable import APIMachinery
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import TestSupport
import Testing

/// Issue 16: real clients with service-account tokens: kubectl 1.32's `create token` (a
/// TokenRequest) with the tokens it prints used by kubectl. The in-cluster python client is
/// in ServerTests (ServiceAccountInClusterTests), where the controllers run.
@Suite struct ServiceAccountClientTests {
    @Test func kubectlCreateTokenMakesTokensKubectlCanUse() async throws {
        try await withTestCluster { cluster in
            let kubectl = try cluster.kubectl()
            let created = try await kubectl("create", "token", "default")
            #expect(created.status == 0, "\(created.stderr)")
            let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let user = try await Authenticator.serviceAccountUser(token: token, issuer: cluster.serviceAccounts, service: cluster.service).get()
            #expect(user.name == "system:serviceaccount:default:default")

            let asAccount = try cluster.kubectl(token: token)
            let pods = try await asAccount("get", "pods", "-A")
            #expect(pods.status == 0, "\(pods.stderr)")
            let forbidden = try await asAccount("create", "configmap", "x", "--from-literal=a=b")
            #expect(forbidden.status != 0)
            #expect(forbidden.stderr.contains(#"configmaps is forbidden: User "system:serviceaccount:default:default" cannot create resource "configmaps""#), "\(forbidden.stderr)")

            // --duration, --audience, and a binding to a pod.
            #expect(try await kubectl("create", "serviceaccount", "builder", "-n", "kube-system").status == 0)
            let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"kube-system"},"spec":{"serviceAccountName":"builder","containers":[{"name":"c","image":"busybox"}]}}"#
            #expect(try await kubectl("create", "-f", "-", input: pod).status == 0)
            let bound = try await kubectl("create", "token", "builder", "-n", "kube-system", "--duration", "20m", "--audience", "vault",
                                          "--audience", "https://kubernetes.default.svc.cluster.local", "--bound-object-kind", "Pod",
                                          "--bound-object-name", "web")
            #expect(bound.status == 0, "\(bound.stderr)")
            let claims = try JSONParser.parse(try #require(Base64URL.decode(bound.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".")[1])))
            #expect(claims["aud"] == .array([.string("vault"), .string("https://kubernetes.default.svc.cluster.local")]))
            #expect(claims["exp"]?.intValue == (claims["iat"]?.intValue ?? 0) + 1200)
            #expect(claims["kubernetes.io"]?["pod"]?["name"] == .string("web"))

            let short = try await kubectl("create", "token", "default", "--duration", "5m")
            #expect(short.status != 0)
            #expect(short.stderr.contains("may not specify a duration less than 10 minutes"), "\(short.stderr)")
            let missing = try await kubectl("create", "token", "nobody")
            #expect(missing.stderr.contains(#"serviceaccounts "nobody" not found"#), "\(missing.stderr)")
        }
    }
}
