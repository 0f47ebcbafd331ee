import APIMachinery
import APIRegistry
import Foundation
import KubeAPI

extension Authenticator {
    /// The identity of a service-account token, or nil (the request gets a 401).
    func authenticateServiceAccount(token: String, issuer: ServiceAccountIssuer, service: APIService,
                                    now: Date = Date()) async -> UserInfo? {
        try? await Self.serviceAccountUser(token: token, issuer: issuer, service: service, now: now).get()
    }

    /// kube-apiserver's service-account token authenticator (pkg/serviceaccount/jwt.go
    /// `Validate` and claims.go `validator.Validate`): the signature, `iss`, `exp`/`nbf` and
    /// audience, then what the token is bound to must still be there: its service account,
    /// and its pod or secret, with the uids in the token and not deleted more than 60 s ago
    /// (upstream lets a deleted pod's token live out its grace period that long).
    /// Failures carry upstream's reason, for tests and logs.
    static func serviceAccountUser(token: String, issuer: ServiceAccountIssuer, service: APIService,
                                   now: Date = Date()) async -> Result<UserInfo, ServiceAccountTokenError> {
        let claims: ServiceAccountClaims
        switch issuer.verify(token, now: now) {
        case .success(let verified): claims = verified
        case .failure(let rejection): return .failure(ServiceAccountTokenError(rejection.description))
        }
        let namespace = claims.namespace
        let deadline = now.addingTimeInterval(-60)
        func current(_ group: String, _ resource: String, _ ref: ServiceAccountClaims.Reference,
                     kind: String) async -> Result<KubeObject, ServiceAccountTokenError> {
            guard let store = try? service.store(group: group, name: resource),
                  let found = try? await store.find(namespace: namespace, name: ref.name) else {
                return .failure(ServiceAccountTokenError("\(kind) \(ObjectValidation.quote(ref.name)) not found"))
            }
            if found.uid != ref.uid {
                return .failure(ServiceAccountTokenError("\(kind) UID (\(found.uid ?? "")) does not match claim (\(ref.uid))"))
            }
            if let deleted = found.deletionTimestamp.flatMap(Time.init(rfc3339:)), deleted.date < deadline {
                return .failure(ServiceAccountTokenError("\(kind) \(namespace)/\(ref.name) has been deleted"))
            }
            return .success(found)
        }
        if case .failure(let error) = await current("", "serviceaccounts", claims.serviceAccount, kind: "service account") {
            return .failure(error)
        }
        var extra: [String: [String]] = [:]
        if let pod = claims.pod {
            if case .failure(let error) = await current("", "pods", pod, kind: "pod") { return .failure(error) }
            extra["authentication.kubernetes.io/pod-name"] = [pod.name]
            extra["authentication.kubernetes.io/pod-uid"] = [pod.uid]
        }
        if let secret = claims.secret {
            if case .failure(let error) = await current("", "secrets", secret, kind: "secret") { return .failure(error) }
        }
        if let node = claims.node {
            extra["authentication.kubernetes.io/node-name"] = [node.name]
            extra["authentication.kubernetes.io/node-uid"] = [node.uid]
        }
        if !claims.id.isEmpty {
            extra["authentication.kubernetes.io/credential-id"] = ["JTI=" + claims.id]
        }
        return .success(.serviceAccount(namespace: namespace, name: claims.serviceAccount.name, uid: claims.serviceAccount.uid, extra: extra))
    }
}

/// Why a service-account token did not authenticate.
public struct ServiceAccountTokenError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
