import Logging
import Streaming

/// kubelet's authentication filter (pkg/kubelet/server/server.go InstallAuthFilter), for the
/// ordinary routes and the upgrades alike: a bearer token the API server vouches for (401
/// `Unauthorized` otherwise) and an authorization for the verb on `nodes/<subresource>` (403
/// `Forbidden (user=..., verb=..., resource=..., subresource=...)`). `/exec`, `/attach` and
/// `/portForward` are `nodes/proxy`, so only identities allowed everything (system:masters,
/// the API server's kubelet client) reach them; a node's identity does not.
struct KubeletGate: Sendable {
    let nodeName: String
    let authenticator: CachingTokenAuthenticator
    let authorizer: any KubeletAuthorizer
    let logger: Logger

    func check(authorization: String?, method: String, path: String) async -> Result<ReviewedUser, UpgradeRefusal> {
        let user: ReviewedUser
        do {
            guard let reviewed = try await authenticator.authenticate(authorization: authorization) else {
                return .failure(UpgradeRefusal(status: 401, text: "Unauthorized"))
            }
            user = reviewed
        } catch {
            logger.error("unable to authenticate the request", metadata: ["path": "\(path)", "error": "\(error)"])
            return .failure(UpgradeRefusal(status: 401, text: "Unauthorized"))
        }
        let attributes = KubeletRequestAttributes(user: user, method: method, path: path, nodeName: nodeName)
        let described = "user=\(user.name), verb=\(attributes.verb), resource=\(attributes.resource), subresource=\(attributes.subresource)"
        do {
            guard try await authorizer.authorize(attributes) else {
                return .failure(UpgradeRefusal(status: 403, text: "Forbidden (\(described))"))
            }
        } catch {
            logger.error("authorization error", metadata: ["path": "\(path)", "error": "\(error)"])
            return .failure(UpgradeRefusal(status: 500, text: "Authorization error (\(described))"))
        }
        return .success(user)
    }
}
