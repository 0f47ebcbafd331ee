import Crypto
import Foundation
import KubeAPI

/// A bootstrap token (`<id>.<secret>`), stored as kubeadm stores it: Secret
/// `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`
/// (https://kubernetes.io/docs/reference/access-authn-authz/bootstrap-tokens/).
/// A swiftlet server accepts it for joining until it expires; `swiftlet token` manages them.
public struct BootstrapToken: Sendable, Equatable {
    /// Six characters of [a-z0-9]: the public part, and the Secret's name suffix.
    public let id: String
    /// Sixteen characters of [a-z0-9].
    public let secret: String
    /// nil: never expires.
    public let expiration: Date?
    public let description: String

    public init(id: String, secret: String, expiration: Date?, description: String) {
        self.id = id
        self.secret = secret
        self.expiration = expiration
        self.description = description
    }

    /// `<id>.<secret>`.
    public var token: String { "\(id).\(secret)" }

    /// The full join token agents use: `K10<CA hash>::<id>.<secret>`.
    public func joinToken(caHash: String) -> String {
        "K10\(caHash)::\(token)"
    }

    static let secretType = "bootstrap.kubernetes.io/token"
    static let namespace = "kube-system"
    static let collectionPath = "/api/v1/namespaces/kube-system/secrets"

    /// A new random token expiring `ttl` from `now` (nil: never).
    public static func generate(ttl: Duration?, description: String, now: Date = Date()) -> BootstrapToken {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        func random(_ count: Int) -> String {
            String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
        }
        let expiration = ttl.map { now.addingTimeInterval(TimeInterval($0.components.seconds)) }
        return BootstrapToken(id: random(6), secret: random(16), expiration: expiration, description: description)
    }

    /// The Secret that stores this token.
    var secretObject: JSONValue {
        var data: [String: JSONValue] = [
            "token-id": .string(id), "token-secret": .string(secret),
            "usage-bootstrap-authentication": .string("true"), "usage-bootstrap-signing": .string("true"),
        ]
        if let expiration { data["expiration"] = .string(Time(expiration).description) }
        if !description.isEmpty { data["description"] = .string(description) }
        return .object([
            "apiVersion": .string("v1"), "kind": .string("Secret"),
            "metadata": .object(["name": .string("bootstrap-token-\(id)"), "namespace": .string(Self.namespace)]),
            "type": .string(Self.secretType),
            "stringData": .object(data),
        ])
    }

    /// Reads a token back from its Secret; nil when the Secret is not a bootstrap token.
    init?(secret object: JSONValue) {
        guard object["type"]?.stringValue == Self.secretType, case .object(let data)? = object["data"] else { return nil }
        func value(_ key: String) -> String? {
            data[key]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        }
        guard let id = value("token-id"), let secret = value("token-secret") else { return nil }
        let expiration = value("expiration").flatMap { Time(rfc3339: $0)?.date }
        self.init(id: id, secret: secret, expiration: expiration, description: value("description") ?? "")
    }

    // MARK: - On the server

    /// Stores the token on the server.
    public func create(using client: APIClient) async throws {
        let _: JSONValue = try await client.create(Self.collectionPath, secretObject)
    }

    /// The bootstrap tokens on the server, sorted by id.
    public static func list(using client: APIClient) async throws -> [BootstrapToken] {
        let list: JSONValue = try await client.get(collectionPath + "?fieldSelector=type%3D" + secretType.replacingOccurrences(of: "/", with: "%2F"))
        guard case .array(let items)? = list["items"] else { return [] }
        return items.compactMap { BootstrapToken(secret: $0) }.sorted { $0.id < $1.id }
    }

    /// Deletes the token with this id (or `<id>.<secret>`, or a full `K10...::<id>.<secret>`).
    public static func delete(_ text: String, using client: APIClient) async throws {
        let id = Self.id(of: text)
        try await client.delete(path: "\(collectionPath)/bootstrap-token-\(id)")
    }

    /// The id part of a token as the user may give it.
    public static func id(of text: String) -> String {
        let afterSeparator = text.range(of: "::").map { String(text[$0.upperBound...]) } ?? text
        return String(afterSeparator.split(separator: ".").first ?? Substring(afterSeparator))
    }

    /// The hex SHA-256 of the CA bundle the server serves at /cacerts (fetched over the
    /// verified connection), as join tokens carry it.
    public static func caHash(using client: APIClient) async throws -> String {
        let bundle = try await client.send("GET", "/cacerts")
        return SHA256.hash(data: bundle).map { String(format: "%02x", $0) }.joined()
    }
}
