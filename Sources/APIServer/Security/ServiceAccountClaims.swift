import APIMachinery
import Foundation
import KubeAPI

/// The claims of a bound service-account token, as kube-apiserver writes them
/// (pkg/serviceaccount/claims.go): the registered `iss`, `sub`
/// (`system:serviceaccount:NS:NAME`), `aud`, `exp`, `iat`, `nbf` and `jti`, and the private
/// `kubernetes.io` claim with the namespace, the service account, and the object the token is
/// bound to (a pod, with its node when known, or a secret), plus `warnafter` for the
/// extended tokens of projected volumes.
public struct ServiceAccountClaims: Sendable, Equatable {
    /// A name and uid, as the `kubernetes.io` claim refers to objects.
    public struct Reference: Sendable, Equatable {
        public var name: String
        public var uid: String

        public init(name: String, uid: String) {
            self.name = name
            self.uid = uid
        }
    }

    public var issuer: String
    public var audiences: [String]
    /// Seconds since the epoch.
    public var issuedAt: Int64
    public var notBefore: Int64
    public var expiry: Int64
    public var id: String
    public var namespace: String
    public var serviceAccount: Reference
    public var pod: Reference?
    public var secret: Reference?
    public var node: Reference?
    /// When a client should be warned that it uses a token past its requested lifetime.
    public var warnAfter: Int64?

    /// `system:serviceaccount:NS:NAME`, the token's `sub` and the user it authenticates as.
    public var subject: String { UserInfo.serviceAccountUsername(namespace: namespace, name: serviceAccount.name) }

    public init(issuer: String, audiences: [String], issuedAt: Int64, notBefore: Int64, expiry: Int64, id: String,
                namespace: String, serviceAccount: Reference, pod: Reference? = nil, secret: Reference? = nil,
                node: Reference? = nil, warnAfter: Int64? = nil) {
        self.issuer = issuer
        self.audiences = audiences
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expiry = expiry
        self.id = id
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.pod = pod
        self.secret = secret
        self.node = node
        self.warnAfter = warnAfter
    }

    /// The JWT payload. `aud` is an array, as go-jose writes several audiences (a single one
    /// is still an array in Kubernetes' tokens).
    var json: JSONValue {
        func reference(_ ref: Reference) -> JSONValue { .object(["name": .string(ref.name), "uid": .string(ref.uid)]) }
        var kubernetes: [String: JSONValue] = ["namespace": .string(namespace), "serviceaccount": reference(serviceAccount)]
        if let pod { kubernetes["pod"] = reference(pod) }
        if let secret { kubernetes["secret"] = reference(secret) }
        if let node { kubernetes["node"] = reference(node) }
        if let warnAfter { kubernetes["warnafter"] = .int(warnAfter) }
        return .object([
            "iss": .string(issuer), "sub": .string(subject), "aud": .array(audiences.map { .string($0) }),
            "exp": .int(expiry), "iat": .int(issuedAt), "nbf": .int(notBefore), "jti": .string(id),
            "kubernetes.io": .object(kubernetes),
        ])
    }

    /// Reads a payload; nil when a claim is missing or of the wrong type, or `sub` does not
    /// name the service account of the private claim (upstream's validator refuses both).
    init?(json: JSONValue) {
        guard case .object(let claims) = json, let issuer = claims["iss"]?.stringValue,
              let subject = claims["sub"]?.stringValue,
              let expiry = Self.numericDate(claims["exp"]), let kubernetes = claims["kubernetes.io"],
              let namespace = kubernetes["namespace"]?.stringValue, !namespace.isEmpty,
              let account = Self.reference(kubernetes["serviceaccount"]) else {
            return nil
        }
        // `aud` is a string or an array of strings (RFC 7519 section 4.1.3).
        switch claims["aud"] {
        case .string(let audience)?: audiences = [audience]
        case .array(let values)?:
            let strings = values.compactMap(\.stringValue)
            guard strings.count == values.count else { return nil }
            audiences = strings
        default: return nil
        }
        self.issuer = issuer
        self.expiry = expiry
        self.issuedAt = claims["iat"].flatMap(Self.numericDate) ?? 0
        self.notBefore = claims["nbf"].flatMap(Self.numericDate) ?? 0
        self.id = claims["jti"]?.stringValue ?? ""
        self.namespace = namespace
        self.serviceAccount = account
        for (key, present) in [("pod", kubernetes["pod"]), ("secret", kubernetes["secret"]), ("node", kubernetes["node"])] {
            guard let present else { continue }
            guard let ref = Self.reference(present) else { return nil }
            switch key {
            case "pod": pod = ref
            case "secret": secret = ref
            default: node = ref
            }
        }
        warnAfter = kubernetes["warnafter"].flatMap(Self.numericDate)
        guard subject == self.subject else { return nil }
    }

    private static func reference(_ value: JSONValue?) -> Reference? {
        guard let name = value?["name"]?.stringValue, !name.isEmpty else { return nil }
        return Reference(name: name, uid: value?["uid"]?.stringValue ?? "")
    }

    /// A NumericDate: seconds, possibly fractional (RFC 7519 section 2).
    private static func numericDate(_ value: JSONValue?) -> Int64? {
        switch value {
        case .int(let seconds)?: return seconds
        case .double(let seconds)? where seconds.isFinite && abs(seconds) < 1e15: return Int64(seconds)
        default: return nil
        }
    }
}
