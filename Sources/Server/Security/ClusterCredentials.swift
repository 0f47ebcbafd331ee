import Crypto
import Foundation

/// The secrets a server hands out: the admin bearer token (in the admin kubeconfig) and
/// the join token agents use, `K10<sha256 of the CA bundle>::server:<secret>` as k3s
/// formats it, so an agent can check the CA before trusting the server.
public struct ClusterCredentials: Sendable {
    /// The bearer token of the admin kubeconfig.
    public let adminToken: String
    /// The secret part of the join token.
    public let joinSecret: String

    /// Loads the secrets from `directory`, creating them on first start.
    public static func loadOrCreate(directory: String) throws -> ClusterCredentials {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return ClusterCredentials(adminToken: try secret(at: directory + "/admin-token"),
                                  joinSecret: try secret(at: directory + "/join-secret"))
    }

    private static func secret(at path: String) throws -> String {
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           !existing.isEmpty {
            return existing
        }
        var generator = SystemRandomNumberGenerator()
        let value = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
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

/// Bearer-token authentication of API requests. Only the discovery-free endpoints an agent
/// needs before it has credentials are open: `/cacerts`, `/version`, `/healthz`, `/readyz`.
public struct Authenticator: Sendable {
    let tokens: Set<String>

    public init(tokens: Set<String>) {
        self.tokens = tokens
    }

    static let openPaths: Set<String> = ["/cacerts", "/version", "/healthz", "/readyz"]

    /// Whether a request to `path` with this Authorization header may proceed.
    func allows(path: String, authorization: String?) -> Bool {
        if Self.openPaths.contains(path) || path.hasPrefix("/healthz/") || path.hasPrefix("/readyz/") {
            return true
        }
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        let token = authorization.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces)
        // Compare without an early exit so timing does not reveal a token's prefix.
        return tokens.reduce(false) { found, candidate in
            let a = Array(candidate.utf8), b = Array(token.utf8)
            var difference = a.count ^ b.count
            for index in 0..<min(a.count, b.count) { difference |= Int(a[index] ^ b[index]) }
            return found || difference == 0
        }
    }

    /// The Status of a request without valid credentials.
    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
}
