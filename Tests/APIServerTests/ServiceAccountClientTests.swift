@testable import APIMachinery
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import TestSupport
import Testing

/// Issue 16: real clients with service-account tokens: kubectl 1.32's `create token` (a
/// TokenRequest, sent as protobuf) and Debian's python3-kubernetes configured the in-cluster
/// way (token file, CA file, KUBERNETES_SERVICE_HOST/PORT) listing pods.
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

    static let inClusterScript = """
        import sys
        from kubernetes import client
        from kubernetes.config.incluster_config import InClusterConfigLoader
        # load_incluster_config() with the files somewhere else than /var/run/secrets.
        InClusterConfigLoader(token_filename=sys.argv[1], cert_filename=sys.argv[2],
                              environ={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": sys.argv[3]}).load_and_set()
        v1 = client.CoreV1Api()
        print("pods", " ".join(sorted(p.metadata.name for p in v1.list_namespaced_pod("default").items)))
        try:
            v1.list_namespaced_secret("default")
        except client.ApiException as error:
            print("secrets", error.status)
        """

    @Test(.enabled(if: pythonClientInstalled, "python3-kubernetes is not installed"))
    func thePythonClientListsPodsInClusterStyle() async throws {
        try await withHostileCluster { api in
            let cluster = api.cluster
            #expect(try await api.admin("POST", "/api/v1/namespaces/default/pods",
                                        #"{"metadata":{"name":"app"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#).status == 201)
            let uid = try await api.admin("GET", "/api/v1/namespaces/default/pods/app").json()["metadata"]?["uid"]?.stringValue ?? ""
            let response = try await api.admin("POST", "/api/v1/namespaces/default/serviceaccounts/default/token",
                                               #"{"spec":{"expirationSeconds":3607,"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"app","uid":"\#(uid)"}}}"#)
            let token = try #require(try response.json()["status"]?["token"]?.stringValue, "\(response.text)")
            let tokenPath = cluster.directory + "/token", caPath = cluster.directory + "/ca.crt"
            try token.write(toFile: tokenPath, atomically: true, encoding: .utf8)
            try cluster.certificates.caCertificatePEM.write(toFile: caPath, atomically: true, encoding: .utf8)
            let scriptPath = cluster.directory + "/incluster.py"
            try Self.inClusterScript.write(toFile: scriptPath, atomically: true, encoding: .utf8)
            let port = String(cluster.port)
            let output = try await blocking {
                let result = try TestChild.launch([PythonClientTests.python, scriptPath, tokenPath, caPath, port], stdout: .capture, stderr: .capture).finish()
                return String(decoding: result.stdout, as: UTF8.self) + String(decoding: result.stderr, as: UTF8.self)
            }
            #expect(output.contains("pods app\n"), "\(output)")
            #expect(output.contains("secrets 403"), "\(output)")
        }
    }
}
