import Foundation
import NIOCore
import NIOHTTP1

/// Answers registries' `WWW-Authenticate` challenges, as Docker and containerd do
/// (https://distribution.github.io/distribution/spec/auth/token/, containerd's
/// remotes/docker/authorizer.go):
/// - `Basic`: the host's user and password on every request;
/// - `Bearer realm=…,service=…,scope=…`: a token from the realm (`GET realm?service=…&scope=…`,
///   with Basic credentials when there are any; an identity token is exchanged with
///   `POST grant_type=refresh_token`; a registry token is the bearer token itself), cached per
///   host, scope and credential until it expires.
///
/// Once a host has challenged, later requests to it carry the answer up front, so parallel blob
/// downloads do not each pay a 401 round trip.
actor RegistryAuthorizer {
    private struct TokenKey: Hashable {
        var host: String
        var scope: String
        var credential: RegistryCredential?
    }

    private struct HostKey: Hashable {
        var host: String
        var credential: RegistryCredential?
    }

    private var challenges: [String: AuthChallenge] = [:]
    private var tokens: [TokenKey: (authorization: String, expires: Date)] = [:]
    private var pendingTokens: [TokenKey: Task<(token: String, lifetime: TimeInterval), any Error>] = [:]
    private let transport: RegistryTransport

    init(transport: RegistryTransport) {
        self.transport = transport
    }

    /// The `Authorization` to send before any challenge: what answered the host's last one.
    func authorization(for endpoint: RegistryEndpoint, credential: RegistryCredential?, scope: String) async throws -> String? {
        guard let challenge = challenges[endpoint.host] else { return nil }
        return try await answer(challenge, endpoint: endpoint, credential: credential, scope: scope, refresh: false)
    }

    /// Answers a 401's challenges; nil when none can be answered (no credentials for Basic).
    /// `refresh` drops a cached token first (it was just refused).
    func authorize(_ headerValues: [String], endpoint: RegistryEndpoint, credential: RegistryCredential?,
                   scope: String, refresh: Bool) async throws -> String? {
        let parsed = AuthChallenge.parse(headerValues)
        // Bearer first: with it a registry accepts anonymous pulls of public images.
        guard let challenge = parsed.first(where: { $0.scheme == .bearer }) ?? parsed.first else {
            return nil
        }
        challenges[endpoint.host] = challenge
        return try await answer(challenge, endpoint: endpoint, credential: credential, scope: scope, refresh: refresh)
    }

    private func answer(_ challenge: AuthChallenge, endpoint: RegistryEndpoint, credential: RegistryCredential?,
                        scope: String, refresh: Bool) async throws -> String? {
        switch challenge.scheme {
        case .basic:
            guard let basic = credential?.basicAuthorization else {
                throw RegistryError(.unauthorized, "failed to authorize: no basic auth credentials")
            }
            return basic
        case .bearer:
            if let registryToken = credential?.registryToken, !registryToken.isEmpty { return "Bearer " + registryToken }
            let key = TokenKey(host: endpoint.host, scope: scope, credential: credential)
            if refresh { tokens[key] = nil }
            if let cached = tokens[key], cached.expires > Date() { return cached.authorization }
            if let pending = pendingTokens[key] { return "Bearer " + (try await pending.value.token) }
            let task = Task { [transport] in
                try await Self.fetchToken(challenge, endpoint: endpoint, credential: credential, scope: scope, transport: transport)
            }
            pendingTokens[key] = task
            defer { pendingTokens[key] = nil }
            let (token, lifetime) = try await task.value
            let authorization = "Bearer " + token
            tokens[key] = (authorization, Date().addingTimeInterval(lifetime))
            return authorization
        }
    }

    /// The token service's answer: `token` or `access_token`, `expires_in` seconds (60 when
    /// absent, the spec's minimum), used until 10 s before it runs out.
    private struct TokenResponse: Decodable {
        var token: String?
        var access_token: String?
        var expires_in: Int?
    }

    private static func fetchToken(_ challenge: AuthChallenge, endpoint: RegistryEndpoint, credential: RegistryCredential?,
                                   scope: String, transport: RegistryTransport) async throws -> (token: String, lifetime: TimeInterval) {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm),
              let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http"
        else {
            throw RegistryError(.unauthorized, "failed to authorize: the registry's bearer challenge has no valid realm")
        }
        // A token realm is plain HTTP only when the registry itself is.
        if scheme == "http", endpoint.base.scheme?.lowercased() != "http" {
            throw RegistryError(.unauthorized, "failed to authorize: refusing to send credentials to the plain-HTTP realm \(realm)")
        }
        let service = challenge.parameters["service"]
        var scopes = [scope]
        if let asked = challenge.parameters["scope"], !asked.isEmpty {
            scopes = Array(Set(asked.split(separator: " ").map(String.init) + scopes)).sorted()
        }
        let response: RegistryResponse
        let method: String
        let anonymous = credential == nil || credential?.isEmpty == true
        if let identityToken = credential?.identityToken, !identityToken.isEmpty {
            var form = URLComponents()
            form.queryItems = [URLQueryItem(name: "grant_type", value: "refresh_token"),
                               URLQueryItem(name: "refresh_token", value: identityToken),
                               URLQueryItem(name: "client_id", value: "swiftlet"),
                               URLQueryItem(name: "scope", value: scopes.joined(separator: " "))]
                + (service.map { [URLQueryItem(name: "service", value: $0)] } ?? [])
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            method = "POST"
            response = try await transport.send(.POST, realm, headers: headers, body: Array((form.percentEncodedQuery ?? "").utf8),
                                                 authorization: nil, tls: endpoint.tls)
        } else {
            var items = components.queryItems ?? []
            if let service { items.append(URLQueryItem(name: "service", value: service)) }
            for scope in scopes { items.append(URLQueryItem(name: "scope", value: scope)) }
            components.queryItems = items
            let url = components.string ?? realm
            method = "GET"
            response = try await transport.send(.GET, url, headers: HTTPHeaders(), authorization: credential?.basicAuthorization,
                                                 tls: endpoint.tls)
        }
        let what = anonymous ? "failed to fetch anonymous token" : "failed to fetch oauth token"
        guard response.status.code / 100 == 2 else {
            let detail = await RegistryRepository.serverMessage(response)
            let kind: RegistryError.Kind = [401, 403].contains(response.status.code) ? .unauthorized : .server
            throw RegistryError(kind, "failed to authorize: \(what): unexpected status from \(method) request to \(realm): \(response.status.code) \(response.status.reasonPhrase)"
                                + (detail.isEmpty ? "" : " (\(detail))"))
        }
        let body = try await response.collect(limit: 1 << 20, what: "token response from \(realm)")
        guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: Data(body)),
              let token = decoded.token ?? decoded.access_token, !token.isEmpty
        else {
            throw RegistryError(.unauthorized, "failed to authorize: \(what): \(realm) answered no token")
        }
        let lifetime = max(decoded.expires_in ?? 60, 60)
        return (token, TimeInterval(lifetime - 10))
    }
}
