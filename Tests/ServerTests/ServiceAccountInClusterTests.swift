@testable import APIMachinery
import APIServer
import APITestSupport
import Controllers
import Foundation
import KubeAPI
import ServerTestSupport
import TestSupport
import Testing

/// Whether Debian's python3-kubernetes is installed (scripts/debian-packages lists it).
private let pythonClientInstalled = FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/kubernetes/__init__.py")

/// Issue 16: an in-cluster client with a service-account token, over HTTPS with the
/// controllers running: Debian's python3-kubernetes configured the in-cluster way (token file,
/// CA file, KUBERNETES_SERVICE_HOST/PORT) lists pods; real kubectl reads `kube-root-ca.crt`.
@Suite struct ServiceAccountInClusterTests {
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

    /// The whole in-cluster path but the agent: kubectl creates a pod (admission adds its
    /// kube-api-access volume), the root-ca-cert-publisher's `kube-root-ca.crt` (read with
    /// kubectl) gives the CA file, a TokenRequest bound to the pod as its volume asks gives the
    /// token file, and python's in-cluster configuration lists pods with them.
    @Test(.requires(pythonClientInstalled && Kubectl.isInstalled, "needs Debian's python3-kubernetes and kubectl"))
    func thePythonClientListsPodsInClusterStyle() async throws {
        try await withTestCluster { cluster in
            try await withHTTPSClient(cluster) { client in
            var settings = ControllerSettings.forTests
            settings.rootCACertificatePEM = cluster.certificates.caCertificatePEM
            try await withControllers(on: cluster.handle.api, settings: settings) { _ in
                let kubectl = try cluster.kubectl()
                #expect(try await kubectl("run", "app", "--image=busybox", "--restart=Never").status == 0)
                let pod = try await client.call(cluster.credentials.adminToken, "GET", "/api/v1/namespaces/default/pods/app").json()
                let uid = pod["metadata"]?["uid"]?.stringValue ?? ""
                let volume = try #require(pod["spec"]?["volumes"]?.arrayValue?.first { ($0["name"]?.stringValue ?? "").hasPrefix("kube-api-access-") })
                let seconds = volume["projected"]?["sources"]?.arrayValue?.first?["serviceAccountToken"]?["expirationSeconds"]?.intValue ?? 0
                #expect(seconds == 3607)

                let listed = try await eventually({ try await kubectl("get", "configmap", "kube-root-ca.crt") }, until: { $0.status == 0 })
                #expect(tableRows(listed.stdout).dropFirst().first?.prefix(2) == ["kube-root-ca.crt", "1"], "\(listed.stdout)\(listed.stderr)")
                let ca = try await kubectl("get", "configmap", "kube-root-ca.crt", "-o", #"jsonpath={.data.ca\.crt}"#)
                #expect(ca.stdout == cluster.certificates.caCertificatePEM)

                let response = try await client.call(cluster.credentials.adminToken, "POST", "/api/v1/namespaces/default/serviceaccounts/default/token",
                                                   #"{"spec":{"expirationSeconds":\#(seconds),"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"app","uid":"\#(uid)"}}}"#)
                let token = try #require(try response.json()["status"]?["token"]?.stringValue, "\(response.text)")
                let tokenPath = cluster.directory + "/token", caPath = cluster.directory + "/ca.crt"
                try token.write(toFile: tokenPath, atomically: true, encoding: .utf8)
                try ca.stdout.write(toFile: caPath, atomically: true, encoding: .utf8)
                let scriptPath = cluster.directory + "/incluster.py"
                try Self.inClusterScript.write(toFile: scriptPath, atomically: true, encoding: .utf8)
                let port = String(cluster.port)
                let output = try await blocking {
                    let result = try TestChild.launch(["/usr/bin/python3", scriptPath, tokenPath, caPath, port], stdout: .capture, stderr: .capture).finish()
                    return String(decoding: result.stdout, as: UTF8.self) + String(decoding: result.stderr, as: UTF8.self)
                }
                #expect(output.contains("pods app\n"), "\(output)")
                #expect(output.contains("secrets 403"), "\(output)")
            }
            }
        }
    }
}
