import Crypto
import Foundation
import KubeAPI
import Synchronization

/// The identity a bearer token belongs to, as a TokenReview answers it.
public struct ReviewedUser: Sendable, Equatable {
    public var name: String
    public var uid: String?
    public var groups: [String]

    public init(name: String, uid: String? = nil, groups: [String] = []) {
        self.name = name
        self.uid = uid
        self.groups = groups
    }
}

/// Checks a bearer token with the API server (a `TokenReview`, as kubelet's webhook
/// authenticator does). nil: the token is not valid; a thrown error: the check itself failed.
public protocol TokenReviewer: Sendable {
    func review(token: String) async throws -> ReviewedUser?
}

/// What a request asks to do, in the terms kubelet authorizes it with
/// (pkg/kubelet/server/auth.go): a verb on `nodes/<subresource>` of this node.
public struct KubeletRequestAttributes: Sendable, Equatable {
    public var user: ReviewedUser
    /// get, create, update, patch, delete (from the HTTP method).
    public var verb: String
    /// Always `nodes`.
    public var resource: String
    /// stats, metrics, log, spec, checkpoint, or proxy for everything else.
    public var subresource: String
    /// The node's name.
    public var name: String
    public var path: String

    /// kubelet's mapping of a request to attributes.
    public init(user: ReviewedUser, method: String, path: String, nodeName: String) {
        self.user = user
        switch method {
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = "delete"
        default: verb = "get"
        }
        resource = "nodes"
        func isSubpath(_ prefix: String) -> Bool { path == prefix || path.hasPrefix(prefix + "/") }
        if isSubpath("/stats") {
            subresource = "stats"
        } else if isSubpath("/metrics") {
            subresource = "metrics"
        } else if isSubpath("/logs") {
            subresource = "log"
        } else if isSubpath("/spec") {
            subresource = "spec"
        } else if isSubpath("/checkpoint") {
            subresource = "checkpoint"
        } else {
            subresource = "proxy"
        }
        name = nodeName
        self.path = path
    }
}

/// Decides whether an authenticated request may proceed.
public protocol KubeletAuthorizer: Sendable {
    func authorize(_ attributes: KubeletRequestAttributes) async throws -> Bool
}

/// Lets members of `system:masters` do everything and nobody else anything: the API server's
/// own kubelet client and admins are in that group. (kubelet asks the API server with a
/// SubjectAccessReview; RBAC would grant the same to those users.)
public struct SystemMastersAuthorizer: KubeletAuthorizer {
    public init() {}

    public func authorize(_ attributes: KubeletRequestAttributes) async throws -> Bool {
        attributes.user.groups.contains("system:masters")
    }
}

/// Bearer-token authentication with the results of the reviewer cached, as kubelet's
/// webhook token authenticator caches them (`--authentication-token-webhook-cache-ttl`,
/// 2 minutes, for valid and invalid tokens alike). Failed reviews are not cached.
public final class CachingTokenAuthenticator: Sendable {
    let reviewer: any TokenReviewer
    let ttl: Duration
    /// The clock entries expire by; tests pass one they move by hand.
    let now: @Sendable () -> ContinuousClock.Instant
    private let cache = Mutex<[String: (user: ReviewedUser?, expires: ContinuousClock.Instant)]>([:])

    public init(reviewer: any TokenReviewer, ttl: Duration = .seconds(120),
                now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.reviewer = reviewer
        self.ttl = ttl
        self.now = now
    }

    /// The user of an `Authorization` header; nil when there is no bearer token or it is invalid.
    public func authenticate(authorization: String?) async throws -> ReviewedUser? {
        // The API server's rule exactly (`BearerToken`): `Bearer  abc` with two spaces is no token.
        guard case .token(let token) = BearerToken.parse(authorization) else { return nil }
        // Keyed by a hash so the cache holds no usable token.
        let key = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
        let now = self.now()
        if let hit = cache.withLock({ entries -> (user: ReviewedUser?, expires: ContinuousClock.Instant)? in
            entries = entries.filter { $0.value.expires > now }
            return entries[key]
        }) {
            return hit.user
        }
        let user = try await reviewer.review(token: token)
        cache.withLock { $0[key] = (user, now + ttl) }
        return user
    }
}
