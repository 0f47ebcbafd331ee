import APIMachinery
import APIRegistry
import Foundation
import Hummingbird
import KubeAPI

extension APIHandler {
    static let tokenRequestGroup = "authentication.k8s.io"
    /// `expirationSeconds` bounds (pkg/apis/authentication/validation: 10 minutes to 2^32 s).
    static let minimumTokenSeconds: Int64 = 600
    static let maximumTokenSeconds: Int64 = 1 << 32
    /// kube-apiserver's default of `expirationSeconds` (SetDefaults_TokenRequestSpec).
    static let defaultTokenSeconds: Int64 = 3600
    /// What the ServiceAccount admission plugin asks for projected tokens
    /// (serviceaccount.WarnOnlyBoundTokenExpirationSeconds), and the year such a pod-bound
    /// token really lives with --service-account-extend-token-expiration (its default, and
    /// k3s'), `warnafter` marking the hour asked for (ExpirationExtensionSeconds).
    static let warnOnlyTokenSeconds: Int64 = 3607
    static let extendedTokenSeconds: Int64 = 24 * 365 * 60 * 60

    /// `POST /api/v1/namespaces/NS/serviceaccounts/NAME/token`: an
    /// `authentication.k8s.io/v1 TokenRequest` in, the same with `status.token` and
    /// `status.expirationTimestamp` out (201), as kube-apiserver's TokenREST.Create
    /// (pkg/registry/core/serviceaccount/storage/token.go). Nothing is stored. A node may only
    /// ask for a token bound to a pod scheduled on it, with the pod's uid (NodeRestriction's
    /// `admitServiceAccount`); the authorizer has already checked that one of its pods uses
    /// the account.
    /// `dryRun` is ignored, as upstream's TokenREST ignores it: a token is made either way.
    func createToken(_ request: Request, namespace: String, name: String, user: UserInfo?) async throws(APIError) -> Response {
        guard let issuer = authenticator?.serviceAccounts else { throw APIError.pathNotFound() }
        let kind = "TokenRequest"
        let bytes = try await body(of: request)
        guard !bytes.isEmpty else { throw APIError.badRequest("the request body is empty; send a TokenRequest as JSON") }
        let body = try await MediaTypes.decode(bytes, contentType: request.headers[.contentType])
        guard case .object = body else { throw APIError.badRequest("the request body must be a TokenRequest object, not \(body.typeName)") }
        let spec = body["spec"] ?? .null
        if let bodyName = body["metadata"]?["name"]?.stringValue, !bodyName.isEmpty, bodyName != name {
            throw APIError.invalid(kind: kind, group: Self.tokenRequestGroup, name: name, errors: [
                ValidationError(type: .invalid, field: "metadata.name", badValue: .string(bodyName), detail: "must match the service account name if specified"),
            ])
        }
        if let bodyNamespace = body["metadata"]?["namespace"]?.stringValue, !bodyNamespace.isEmpty, bodyNamespace != namespace {
            throw APIError.invalid(kind: kind, group: Self.tokenRequestGroup, name: name, errors: [
                ValidationError(type: .invalid, field: "metadata.namespace", badValue: .string(bodyNamespace), detail: "must match the service account namespace if specified"),
            ])
        }
        var audiences: [String] = []
        if let given = spec["audiences"], given != .null {
            guard let values = given.arrayValue, values.allSatisfy({ $0.stringValue != nil }) else {
                throw APIError.badRequest("spec.audiences must be a list of strings")
            }
            audiences = values.compactMap(\.stringValue)
        }
        if audiences.isEmpty { audiences = issuer.apiAudiences }
        var seconds = Self.defaultTokenSeconds
        if let given = spec["expirationSeconds"], given != .null {
            guard let value = given.intValue else { throw APIError.badRequest("spec.expirationSeconds must be an integer") }
            seconds = value
        }
        var errors: [ValidationError] = []
        if seconds < Self.minimumTokenSeconds {
            errors.append(ValidationError(type: .invalid, field: "spec.expirationSeconds", badValue: .int(seconds), detail: "may not specify a duration less than 10 minutes"))
        }
        if seconds > Self.maximumTokenSeconds {
            errors.append(ValidationError(type: .invalid, field: "spec.expirationSeconds", badValue: .int(seconds), detail: "may not specify a duration larger than 2^32 seconds"))
        }
        guard errors.isEmpty else { throw APIError.invalid(kind: kind, group: Self.tokenRequestGroup, name: "", errors: errors) }

        let account = try await service.store(group: "", name: "serviceaccounts").get(namespace: namespace, name: name)
        var pod: KubeObject?
        var secret: KubeObject?
        var node: KubeObject?
        let reference = spec["boundObjectRef"].flatMap { $0 == .null ? nil : $0 }
        // Admission (NodeRestriction) runs after the account is found, before the binding.
        try await admitNodeTokenRequest(user, reference: reference, namespace: namespace, name: name)
        if let reference {
            let refKind = reference["kind"]?.stringValue ?? ""
            let refVersion = reference["apiVersion"]?.stringValue ?? ""
            let refName = reference["name"]?.stringValue ?? ""
            let refUID = reference["uid"]?.stringValue ?? ""
            // Only the core group: `v1` (or an empty version), never `apps/v1`.
            let group = refVersion.contains("/") ? String(refVersion.split(separator: "/")[0]) : ""
            let bound: KubeObject
            switch (group, refKind) {
            case ("", "Pod"):
                bound = try await service.store(group: "", name: "pods").get(namespace: namespace, name: refName)
                let podAccount = bound.string(at: ["spec", "serviceAccountName"]) ?? ""
                guard podAccount == name else {
                    throw APIError.badRequest("cannot bind token for serviceaccount \(ObjectValidation.quote(name)) to pod running with different serviceaccount name.")
                }
                pod = bound
                if let nodeName = bound.string(at: ["spec", "nodeName"]), !nodeName.isEmpty {
                    // The node is optional: a token for a pod whose Node is gone is still made.
                    node = try? await service.store(group: "", name: "nodes").find(namespace: nil, name: nodeName)
                }
            case ("", "Secret"):
                bound = try await service.store(group: "", name: "secrets").get(namespace: namespace, name: refName)
                secret = bound
            default:
                let gvk = group.isEmpty ? "/\(refVersion), Kind=\(refKind)" : "\(refVersion), Kind=\(refKind)"
                throw APIError.badRequest("cannot bind token to object of type \(gvk)")
            }
            if !refUID.isEmpty, refUID != bound.uid {
                throw APIError.conflict(GroupResource(group: group, resource: refKind), name: refName,
                                        "the UID in the bound object reference (\(refUID)) does not match the UID in record. The object might have been deleted and then recreated")
            }
        }

        // Pod-bound tokens asking for exactly the projected volume's lifetime, for the API
        // server itself, live a year and carry `warnafter` (upstream's safe transition to
        // bound tokens, on by default).
        var lifetime = seconds
        var warnAfter: Int64?
        if pod != nil, seconds == Self.warnOnlyTokenSeconds, audiences.allSatisfy(issuer.apiAudiences.contains) {
            lifetime = Self.extendedTokenSeconds
            warnAfter = seconds
        }
        let now = Int64(Date().timeIntervalSince1970)
        func ref(_ object: KubeObject?) -> ServiceAccountClaims.Reference? {
            object.map { ServiceAccountClaims.Reference(name: $0.name ?? "", uid: $0.uid ?? "") }
        }
        let claims = ServiceAccountClaims(
            issuer: issuer.issuer, audiences: audiences, issuedAt: now, notBefore: now, expiry: now + lifetime,
            id: UUID().uuidString.lowercased(), namespace: namespace,
            serviceAccount: ServiceAccountClaims.Reference(name: name, uid: account.uid ?? ""),
            pod: ref(pod), secret: ref(secret), node: ref(node), warnAfter: warnAfter.map { now + $0 })
        let token: String
        do {
            token = try issuer.sign(claims)
        } catch {
            throw APIError.internalError("failed to generate token: \(error)")
        }
        logger.info("service-account token issued", metadata: [
            "serviceaccount": "\(namespace)/\(name)", "by": "\(user?.name ?? "")", "pod": "\(pod?.name ?? "")",
        ])

        var outSpec: [String: JSONValue] = [
            "audiences": .array(audiences.map { .string($0) }), "expirationSeconds": .int(seconds),
        ]
        outSpec["boundObjectRef"] = reference
        var metadata = body["metadata"]?.objectValue ?? [:]
        metadata["name"] = .string(name)
        metadata["namespace"] = .string(namespace)
        metadata["creationTimestamp"] = .string(Time(Date(timeIntervalSince1970: TimeInterval(now))).description)
        // JSON or protobuf as the client asks (kubectl 1.32's `create token` takes either).
        return try Self.object(.object([
            "kind": .string(kind), "apiVersion": .string("authentication.k8s.io/v1"), "metadata": .object(metadata),
            "spec": .object(outSpec),
            "status": .object([
                "token": .string(token),
                // The requested lifetime, also for an extended token (upstream reports it so).
                "expirationTimestamp": .string(Time(Date(timeIntervalSince1970: TimeInterval(now + seconds))).description),
            ]),
        ]), encoding: MediaTypes.statusEncoding(accept: request.headers[.accept]), status: .created)
    }

    /// NodeRestriction's `admitServiceAccount`: a node's TokenRequest is bound to a pod, by
    /// uid, and the pod is scheduled on that node. Upstream's messages.
    func admitNodeTokenRequest(_ user: UserInfo?, reference: JSONValue?, namespace: String, name: String) async throws(APIError) {
        guard let user, !user.isMaster, let node = user.nodeName else { return }
        let resource = GroupResource(group: "", resource: "serviceaccounts")
        let podName = reference?["name"]?.stringValue ?? ""
        guard let reference, reference["apiVersion"]?.stringValue == "v1", reference["kind"]?.stringValue == "Pod", !podName.isEmpty else {
            throw APIError.forbidden(resource, name: name, "node requested token not bound to a pod")
        }
        let uid = reference["uid"]?.stringValue ?? ""
        guard !uid.isEmpty else {
            throw APIError.forbidden(resource, name: name, "node requested token with a pod binding without a uid")
        }
        let pod = try await service.store(group: "", name: "pods").get(namespace: namespace, name: podName)
        guard pod.uid == uid else {
            throw APIError.forbidden(resource, name: name, "the UID in the bound object reference (\(uid)) does not match the UID in record. The object might have been deleted and then recreated")
        }
        guard pod.string(at: ["spec", "nodeName"]) == node else {
            throw APIError.forbidden(resource, name: name, "node requested token bound to a pod scheduled on a different node")
        }
    }
}
