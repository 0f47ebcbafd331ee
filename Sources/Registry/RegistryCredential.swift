import Foundation

/// Credentials for one registry: a user and password (Basic, and for bearer tokens the
/// token request's Basic authentication), or an identity token (an OAuth2 refresh token, sent
/// to the token service), or a registry token used as the bearer token as is. The fields of
/// Docker's `AuthConfig` and of CRI's `AuthConfig`.
public struct RegistryCredential: Sendable, Hashable, CustomStringConvertible {
    public var username: String?
    public var password: String?
    public var identityToken: String?
    public var registryToken: String?

    public init(username: String? = nil, password: String? = nil, identityToken: String? = nil, registryToken: String? = nil) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
        self.registryToken = registryToken
    }

    /// Docker's `auth` field: base64 of `user:password` (split at the first colon).
    public init(auth: String) throws {
        guard let data = Data(base64Encoded: auth.trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":")
        else {
            throw RegistryError(.invalidInput, "auth is not base64 of \"user:password\"")
        }
        self.init(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }

    /// `Basic base64(user:password)`, when there is a user.
    var basicAuthorization: String? {
        guard let username, !username.isEmpty else { return nil }
        return "Basic " + Data("\(username):\(password ?? "")".utf8).base64EncodedString()
    }

    var isEmpty: Bool {
        (username ?? "").isEmpty && (identityToken ?? "").isEmpty && (registryToken ?? "").isEmpty
    }

    /// Never prints secrets: logs and errors show only who.
    public var description: String {
        if let username, !username.isEmpty { return "user \"\(username)\"" }
        if identityToken != nil { return "an identity token" }
        if registryToken != nil { return "a registry token" }
        return "no credentials"
    }
}
