import APIMachinery
import Foundation
import Hummingbird
import KubeAPI

/// What the security layer decided about a request.
enum SecurityOutcome {
    /// Go on as this identity (nil: no authentication configured, or an open path).
    case proceed(UserInfo?)
    /// The security layer answered the request itself.
    case respond(Response)
}

extension APIHandler {
    /// The path where agents trade a join token for a node credential.
    static let nodeCredentialPath = "/v1-swiftlet/node-credential"
    static let tokenReviewPath = "/apis/authentication.k8s.io/v1/tokenreviews"

    /// Authenticates the request, and serves the endpoints of the security layer itself:
    /// node credentials (join secrets only) and TokenReviews.
    func secure(_ request: Request, path: String) async throws(APIError) -> SecurityOutcome {
        if path == Self.nodeCredentialPath {
            guard let authenticator else { throw APIError.pathNotFound() }
            return .respond(try await issueNodeCredential(request, authenticator: authenticator))
        }
        if Authenticator.isOpen(path: path) { return .proceed(nil) }
        var user: UserInfo?
        if let authenticator {
            user = await authenticator.authenticate(authorization: request.headers[.authorization], service: service)
            guard user != nil else { return .respond(Authenticator.unauthorizedResponse(authorization: request.headers[.authorization])) }
        }
        if path == Self.tokenReviewPath || path == Self.tokenReviewPath + "/" {
            guard request.method == .post else { throw APIError.methodNotAllowed() }
            try await NodeAuthorizer.authorize(user, RequestAttributes(verb: "create", group: "authentication.k8s.io",
                                                                       resource: "tokenreviews"), service: service)
            return .respond(try await reviewToken(request))
        }
        return .proceed(user)
    }

    /// `POST /v1-swiftlet/node-credential` with Basic `node:<join secret or bootstrap token>`
    /// and `{"nodeName", "nodePassword"}`: answers `{"token"}`, the node's bearer token.
    private func issueNodeCredential(_ request: Request, authenticator: Authenticator) async throws(APIError) -> Response {
        guard request.method == .post else { throw APIError.methodNotAllowed() }
        guard await authenticator.authenticateJoin(authorization: request.headers[.authorization], service: service) else {
            throw Authenticator.unauthorized
        }
        let body = try await MediaTypes.decode(try await body(of: request), contentType: request.headers[.contentType])
        let nodeName = body["nodeName"]?.stringValue ?? ""
        let password = body["nodePassword"]?.stringValue ?? ""
        let nameErrors = ObjectValidation.nameErrors(nodeName, rule: .dns1123Subdomain, prefix: false)
        guard !nodeName.isEmpty, nameErrors.isEmpty else {
            throw APIError.badRequest("nodeName \(ObjectValidation.quote(nodeName)) is not a valid node name: \(nameErrors.joined(separator: "; "))")
        }
        guard password.count >= 16 else {
            throw APIError.badRequest("nodePassword must be at least 16 characters")
        }
        let token = try await NodeCredentials(service: service).issue(nodeName: nodeName, password: password)
        logger.info("node credential issued", metadata: ["node": "\(nodeName)"])
        return Self.json(.object(["token": .string(token)]))
    }

    /// `authentication.k8s.io/v1 TokenReview`: who a token stands for, as the API server
    /// would authenticate it (agents check callers of their `:10250` this way).
    private func reviewToken(_ request: Request) async throws(APIError) -> Response {
        let body = try await MediaTypes.decode(try await body(of: request), contentType: request.headers[.contentType])
        guard let token = body["spec"]?["token"]?.stringValue else {
            throw APIError.invalid(kind: "TokenReview", group: "authentication.k8s.io", name: "", errors: [
                ValidationError(type: .required, field: "spec.token"),
            ])
        }
        var status: [String: JSONValue] = ["authenticated": .bool(false), "user": .object([:])]
        if let authenticator, !token.isEmpty, let user = await authenticator.authenticate(token: token, service: service) {
            status = ["authenticated": .bool(true), "user": user.reviewJSON]
        }
        var spec = body["spec"]?.objectValue ?? [:]
        spec["token"] = .string(token)
        return Self.json(.object([
            "kind": .string("TokenReview"), "apiVersion": .string("authentication.k8s.io/v1"),
            "metadata": .object(["creationTimestamp": .null]), "spec": .object(spec), "status": .object(status),
        ]), status: .created)
    }
}
