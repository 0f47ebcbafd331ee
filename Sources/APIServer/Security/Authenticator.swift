import APIMachinery
import APIRegistry
import Foundation
import Hummingbird
import KubeAPI

/// Authentication of API requests by bearer token, each token standing for an identity:
/// - the admin token → `system:admin` (system:masters);
/// - the server's kubelet-client token → `kube-apiserver-kubelet-client` (system:masters);
/// - a node token (`node:<name>:<secret>`, issued at join) → `system:node:<name>` (system:nodes);
/// - a service-account token (a JWT signed with the server's service-account key, see
///   `ServiceAccountIssuer` and `authenticateServiceAccount`) →
///   `system:serviceaccount:<namespace>:<name>`.
///
/// Join secrets (the server's join token and bootstrap tokens) authenticate nothing but the
/// node-credential endpoint, with HTTP Basic `node:<secret>` as k3s agents send it.
/// Open without credentials: `/cacerts`, `/version`, `/healthz`, `/readyz` (what an agent
/// needs before it has credentials).
public struct Authenticator: Sendable {
    let adminTokens: [String]
    let kubeletClientTokens: [String]
    /// The server join token's secret; nil when agents cannot join.
    let joinSecret: String?
    /// Signs and checks service-account tokens; nil: none are issued or accepted, and the
    /// `serviceaccounts/token` subresource is not served.
    public let serviceAccounts: ServiceAccountIssuer?

    /// Authenticates each of `tokens` as `system:admin`; nothing can join.
    public init(tokens: Set<String>, serviceAccounts: ServiceAccountIssuer? = nil) {
        self.adminTokens = Array(tokens)
        self.kubeletClientTokens = []
        self.joinSecret = nil
        self.serviceAccounts = serviceAccounts
    }

    /// Authenticates the cluster's admin and kubelet-client tokens, node tokens,
    /// service-account tokens signed by `serviceAccounts`, and joins with the join secret or
    /// a bootstrap token.
    public init(credentials: ClusterCredentials, serviceAccounts: ServiceAccountIssuer? = nil) {
        self.adminTokens = [credentials.adminToken]
        self.kubeletClientTokens = [credentials.kubeletClientToken]
        self.joinSecret = credentials.joinSecret
        self.serviceAccounts = serviceAccounts
    }

    static let openPaths: Set<String> = ["/cacerts", "/version", "/healthz", "/readyz"]

    /// Whether `path` is served to anyone.
    static func isOpen(path: String) -> Bool {
        openPaths.contains(path) || path.hasPrefix("/healthz/") || path.hasPrefix("/readyz/")
    }

    /// The identity of a bearer token; nil when it is not one.
    func authenticate(token: String, service: APIService) async -> UserInfo? {
        // Check every candidate without an early exit so timing does not tell which matched.
        var user: UserInfo?
        for candidate in adminTokens where SecretHash.constantTimeEqual(candidate, token) { user = .admin }
        for candidate in kubeletClientTokens where SecretHash.constantTimeEqual(candidate, token) { user = .kubeletClient }
        if user == nil, token.hasPrefix("node:") {
            user = await NodeCredentials(service: service).authenticate(token: token)
        }
        if user == nil, let serviceAccounts, token.utf8.contains(UInt8(ascii: ".")) {
            user = await authenticateServiceAccount(token: token, issuer: serviceAccounts, service: service)
        }
        return user
    }

    /// The identity of a request's `Authorization: Bearer ...` header, read exactly as
    /// Kubernetes reads it (`BearerToken`: `Bearer  abc` with two spaces is no token).
    func authenticate(authorization: String?, service: APIService) async -> UserInfo? {
        guard case .token(let token) = BearerToken.parse(authorization) else { return nil }
        return await authenticate(token: token, service: service)
    }

    /// Whether a request's `Authorization: Basic ...` header carries a join secret: the
    /// server's, or a valid, unexpired bootstrap token `<id>.<secret>`. The user name is not
    /// checked (k3s agents send `node`).
    func authenticateJoin(authorization: String?, service: APIService) async -> Bool {
        guard let authorization, authorization.hasPrefix("Basic "),
              let decoded = Data(base64Encoded: String(authorization.dropFirst("Basic ".count)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else {
            return false
        }
        let secret = String(text[text.index(after: colon)...])
        guard !secret.isEmpty else { return false }
        if let joinSecret, SecretHash.constantTimeEqual(joinSecret, secret) {
            return true
        }
        return await BootstrapTokens.isValid(secret, service: service)
    }

    /// The Status of a request without valid credentials.
    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    /// The 401 answer, with kube-apiserver's warning when a space before the token emptied it.
    static func unauthorizedResponse(authorization: String?) -> Response {
        let warnings = BearerToken.parse(authorization) == .spaceBeforeToken ? [BearerToken.spaceBeforeTokenWarning] : []
        return APIHandler.json(unauthorized.status, status: .unauthorized, warnings: warnings)
    }
}
