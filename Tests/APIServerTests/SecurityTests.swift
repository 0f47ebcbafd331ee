@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import ServerTestSupport
import Testing

@Suite struct SecurityTests {
    @Test func onlyTheOpenEndpointsWorkWithoutAToken() async throws {
        let authenticator = Authenticator(tokens: ["secret-token"])
        try await withTestServer(authenticator: authenticator, caCertificatePEM: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n") { server in
            let client = server.client
            for path in ["/version", "/healthz", "/readyz", "/cacerts"] {
                #expect(try await client.send("GET", path).status == 200, "\(path)")
            }
            #expect(try await client.send("GET", "/cacerts").text.hasPrefix("-----BEGIN CERTIFICATE-----"))
            for path in ["/api", "/api/v1/namespaces/default/pods", "/apis/apps/v1", "/livez"] {
                let response = try await client.send("GET", path)
                #expect(response.status == 401, "\(path)")
                #expect(try response.json()["reason"]?.stringValue == "Unauthorized")
            }
            #expect(try await client.send("GET", "/api/v1/pods", headers: ["Authorization": "Bearer wrong"]).status == 401)
            #expect(try await client.send("GET", "/api/v1/pods", headers: ["Authorization": "Bearer secret-token"]).status == 200)
        }
    }

    @Test func certificatesAreMadeOnceAndTheJoinTokenPinsTheCA() async throws {
        let directory = try TemporaryDirectory()
        let first = try await ServerCertificates.loadOrCreate(directory: directory.path + "/tls", dnsNames: ["node-a"], ipAddresses: ["10.0.0.5"])
        let second = try await ServerCertificates.loadOrCreate(directory: directory.path + "/tls", dnsNames: [], ipAddresses: [])
        #expect(first.caCertificatePEM == second.caCertificatePEM)
        #expect(first.servingCertificatePEM != second.servingCertificatePEM)
        let keyMode = try FileManager.default.attributesOfItem(atPath: directory.path + "/tls/server-ca.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let credentials = try ClusterCredentials.loadOrCreate(directory: directory.path + "/cred")
        let again = try ClusterCredentials.loadOrCreate(directory: directory.path + "/cred")
        #expect(credentials.adminToken == again.adminToken)
        let token = credentials.joinToken(caHash: first.caHash)
        #expect(token.hasPrefix("K10" + first.caHash + "::server:"))
        #expect(first.caHash.count == 64)
    }

    /// kubectl over HTTPS with the admin kubeconfig the server writes: it verifies the
    /// serving certificate against the embedded CA and sends the bearer token.
    @Test
    func kubectlOverHTTPSWithTheAdminKubeconfig() async throws {
        let directory = try TemporaryDirectory()
        let certificates = try await ServerCertificates.loadOrCreate(directory: directory.path + "/tls", dnsNames: [], ipAddresses: [])
        let credentials = try ClusterCredentials.loadOrCreate(directory: directory.path + "/cred")
        let tlsDirectory = directory.path
        try await withTestServer(tls: TLSMaterial(certificatePEM: certificates.servingCertificatePEM, keyPEM: certificates.servingKeyPEM),
                                 authenticator: Authenticator(tokens: [credentials.adminToken]),
                                 caCertificatePEM: certificates.caCertificatePEM) { server in
            let kubeconfig = tlsDirectory + "/admin.yaml"
            try credentials.adminKubeconfig(server: "https://127.0.0.1:\(server.port)", caPEM: certificates.caCertificatePEM)
                .write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let kubectl = Kubectl(kubeconfig: kubeconfig, cacheDirectory: tlsDirectory + "/cache")
            let namespaces = try await kubectl("get", "namespaces")
            #expect(namespaces.status == 0, "\(namespaces.stderr)")
            #expect(tableRows(namespaces.stdout).map(\.first) == ["NAME", "default", "kube-node-lease", "kube-public", "kube-system"])

            let wrong = tlsDirectory + "/wrong.yaml"
            try credentials.adminKubeconfig(server: "https://127.0.0.1:\(server.port)", caPEM: certificates.caCertificatePEM)
                .replacingOccurrences(of: credentials.adminToken, with: "not-the-token")
                .write(toFile: wrong, atomically: true, encoding: .utf8)
            let denied = try await Kubectl(kubeconfig: wrong, cacheDirectory: tlsDirectory + "/cache2")("get", "pods")
            #expect(denied.status == 1)
            #expect(denied.stderr.contains("error: You must be logged in to the server (the server has asked for the client to provide credentials)"))
            let ca = try await Kubectl(kubeconfig: wrong, cacheDirectory: tlsDirectory + "/cache3")("get", "--raw", "/cacerts")
            #expect(ca.stdout == certificates.caCertificatePEM)
        }
    }
}
