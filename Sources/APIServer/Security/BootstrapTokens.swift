import APIMachinery
import APIRegistry
import Foundation
import KubeAPI

/// Bootstrap tokens as kubeadm keeps them: Secret `kube-system/bootstrap-token-<id>` of type
/// `bootstrap.kubernetes.io/token` with `token-id`, `token-secret`, `expiration` (RFC 3339),
/// `description` and `usage-bootstrap-authentication`
/// (https://kubernetes.io/docs/reference/access-authn-authz/bootstrap-tokens/).
/// `swiftlet token create` makes them; here they authenticate joins only.
enum BootstrapTokens {
    static let secretType = "bootstrap.kubernetes.io/token"
    static let namePrefix = "bootstrap-token-"

    /// Whether `token` (`<id>.<secret>`) is a valid, unexpired bootstrap token.
    static func isValid(_ token: String, service: APIService, now: Date = Date()) async -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, isTokenPart(parts[0], length: 6), isTokenPart(parts[1], length: 16) else { return false }
        guard let secrets = try? service.store(group: "", name: "secrets"),
              let found = try? await secrets.find(namespace: "kube-system", name: namePrefix + parts[0]) else {
            return false
        }
        return matches(found, id: parts[0], secret: parts[1], now: now)
    }

    /// The checks of Kubernetes' bootstrap token authenticator
    /// (plugin/pkg/auth/authenticator/token/bootstrap/bootstrap.go).
    static func matches(_ secret: KubeObject, id: String, secret token: String, now: Date) -> Bool {
        guard secret.fields["type"]?.stringValue == secretType, secret.deletionTimestamp == nil else { return false }
        let data = decodedData(secret)
        guard data["token-id"] == id, let stored = data["token-secret"], SecretHash.constantTimeEqual(stored, token),
              data["usage-bootstrap-authentication"] == "true" else {
            return false
        }
        if let expiration = data["expiration"], !expiration.isEmpty {
            guard let expires = Time(rfc3339: expiration), expires.date > now else { return false }
        }
        return true
    }

    /// A Secret's `data` decoded from base64.
    static func decodedData(_ secret: KubeObject) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in secret.fields["data"]?.objectValue ?? [:] {
            if let text = value.stringValue, let data = Data(base64Encoded: text) {
                result[key] = String(decoding: data, as: UTF8.self)
            }
        }
        return result
    }

    static func isTokenPart(_ text: String, length: Int) -> Bool {
        text.utf8.count == length && text.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
