import Crypto
import Foundation

/// The secrets a server hands out: the admin bearer token (in the admin kubeconfig), the
/// join token agents use, `K10<sha256 of the CA bundle>::server:<secret>` as k3s formats it
/// (so an agent can check the CA before trusting the server), and the token of the server's
/// own identity towards agents.
public struct ClusterCredentials: Sendable {
    /// The bearer token of the admin kubeconfig (`system:admin`, group system:masters).
    public let adminToken: String
    /// The secret part of the join token.
    public let joinSecret: String
    /// The token the server presents to agents (`:10250`, for `pods/log` and the like):
    /// identity `kube-apiserver-kubelet-client` in system:masters, which an agent confirms
    /// with a TokenReview.
    public let kubeletClientToken: String

    public init(adminToken: String, joinSecret: String, kubeletClientToken: String) {
        self.adminToken = adminToken
        self.joinSecret = joinSecret
        self.kubeletClientToken = kubeletClientToken
    }

    /// Loads the secrets from `directory`, creating them on first start.
    public static func loadOrCreate(directory: String) throws -> ClusterCredentials {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return ClusterCredentials(adminToken: try secret(at: directory + "/admin-token"),
                                  joinSecret: try secret(at: directory + "/join-secret"),
                                  kubeletClientToken: try secret(at: directory + "/kubelet-client-token"))
    }

    private static func secret(at path: String) throws -> String {
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           !existing.isEmpty {
            return existing
        }
        let value = SecretHash.randomHex(bytes: 16)
        try ServerCertificates.write(value + "\n", to: path, mode: 0o600)
        return value
    }

    /// The full join token for a CA.
    public func joinToken(caHash: String) -> String {
        "K10\(caHash)::server:\(joinSecret)"
    }

    /// An admin kubeconfig for `server` (https://host:port) trusting `caPEM`.
    public func adminKubeconfig(server: String, caPEM: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: default
          cluster:
            server: \(server)
            certificate-authority-data: \(Data(caPEM.utf8).base64EncodedString())
        contexts:
        - name: default
          context:
            cluster: default
            user: default
        current-context: default
        preferences: {}
        users:
        - name: default
          user:
            token: \(adminToken)

        """
    }
}
