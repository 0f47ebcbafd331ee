import APIRegistry
import APIServer
import APITestSupport
import Foundation
import Storage

/// A running HTTPS API server with the cluster's CA and credentials, as `swiftlet server` runs it.
package struct TestCluster: Sendable {
    package let handle: TestServerHandle
    package let certificates: ServerCertificates
    package let credentials: ClusterCredentials
    package let serviceAccounts: ServiceAccountIssuer

    package var port: Int { handle.port }
    package var service: APIService { handle.service }
    package var directory: String { handle.directory }

    /// The server's URL.
    package var server: String { "https://127.0.0.1:\(port)" }
    package var joinToken: String { credentials.joinToken(caHash: certificates.caHash) }
}

/// Runs an HTTPS server on 127.0.0.1 (`port` 0: any free port) for the duration of `body`,
/// with a CA, serving certificate and credentials made in `directory` as `swiftlet server`
/// makes them (a directory reused across calls keeps them, as a restarted server does), then
/// stops it.
package func withTestCluster<T: Sendable>(port: Int = 0, historyCapacity: Int = SQLiteStorage.defaultHistoryCapacity,
                                          directory: String? = nil,
                                          _ body: @Sendable (TestCluster) async throws -> T) async throws -> T {
    try await withScratchDirectory(directory) { directory in
        let certificates = try await ServerCertificates.loadOrCreate(directory: directory + "/tls", dnsNames: [], ipAddresses: [])
        let credentials = try ClusterCredentials.loadOrCreate(directory: directory + "/cred")
        let serviceAccounts = try ServiceAccountIssuer.loadOrCreate(directory: directory + "/tls")
        return try await withTestServer(
            tls: TLSMaterial(certificatePEM: certificates.servingCertificatePEM, keyPEM: certificates.servingKeyPEM),
            authenticator: Authenticator(credentials: credentials, serviceAccounts: serviceAccounts),
            caCertificatePEM: certificates.caCertificatePEM,
            port: port, historyCapacity: historyCapacity, directory: directory) { server in
            try await body(TestCluster(handle: server, certificates: certificates, credentials: credentials, serviceAccounts: serviceAccounts))
        }
    }
}

extension TestCluster {
    /// Real kubectl against this cluster over HTTPS, trusting its CA, with `token` (the admin
    /// token by default); its kubeconfig and discovery cache live in the cluster's directory.
    package func kubectl(token: String? = nil, binary: String = Kubectl.defaultBinary) throws -> Kubectl {
        let id = UUID().uuidString
        let kubeconfig = directory + "/kubeconfig-https-\(id)"
        try Kubectl.writeKubeconfig(kubeconfig, server: server, caPEM: certificates.caCertificatePEM,
                                    token: token ?? credentials.adminToken)
        return Kubectl(binary: binary, kubeconfig: kubeconfig, cacheDirectory: directory + "/kube-cache-\(id)")
    }
}
