import Foundation
import Images
import NIOCore
import NIOHTTP1

/// One repository on one endpoint, with the credentials to use there: the distribution API
/// calls a pull makes (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
/// `GET /v2/<name>/manifests/<reference>` and `GET /v2/<name>/blobs/<digest>`, each answered
/// through the registry's authentication challenge when it has one.
struct RegistryRepository: Sendable {
    let endpoint: RegistryEndpoint
    let credential: RegistryCredential?
    let transport: RegistryTransport
    let authorizer: RegistryAuthorizer

    /// Every manifest type swiftlet reads. Both OCI and Docker types always: a registry that is
    /// asked only for Docker's answers 404 for an image pushed as OCI.
    static let manifestAccept = [
        MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest,
    ].joined(separator: ", ")

    /// Largest manifest or index accepted (containerd's limit on manifests it reads is 4 MiB).
    static let maxManifestSize = 4 << 20

    var scope: String { "repository:\(endpoint.repository):pull" }

    /// A manifest or index as fetched: its bytes, verified digest and media type.
    struct FetchedManifest: Sendable {
        var bytes: [UInt8]
        var digest: Digest
        var mediaType: String
    }

    /// `GET /v2/<name>/manifests/<tag or digest>`. By digest the content must hash to it; by tag
    /// the digest is computed, and a `Docker-Content-Digest` that disagrees is refused.
    func manifest(_ reference: String, expected: Digest?) async throws -> FetchedManifest {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: Self.manifestAccept)
        let url = endpoint.url("manifests", reference)
        let response = try await request(.GET, url, headers: headers)
        guard response.status == .ok else {
            throw await statusError(response, method: "GET", url: url, notFound: "not found")
        }
        let bytes = try await response.collect(limit: Self.maxManifestSize, what: "manifest \(url)")
        let digest = Digest.of(bytes)
        if let expected, digest != expected {
            throw RegistryError(.invalidContent, "manifest \(url) is corrupt: expected digest \(expected), got \(digest)")
        }
        if expected == nil, let header = response.headers.first(name: "Docker-Content-Digest"),
           let claimed = try? Digest(parsing: header), claimed != digest {
            throw RegistryError(.invalidContent, "manifest \(url): Docker-Content-Digest \(claimed) does not match the content's digest \(digest)")
        }
        // The media type: the document's own field, else the Content-Type (Docker manifests
        // and lists always carry the field; OCI ones may leave it to the header).
        struct Probe: Decodable { var mediaType: String? }
        let declared = (try? JSONDecoder().decode(Probe.self, from: Data(bytes)))?.mediaType
        let contentType = response.headers.first(name: "Content-Type")?.split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return FetchedManifest(bytes: bytes, digest: digest, mediaType: declared ?? contentType ?? "")
    }

    /// `GET /v2/<name>/blobs/<digest>` from `offset` on (a `Range` request when not 0). Returns
    /// the response (200, or 206 for a range) with its body still streaming.
    func blob(_ digest: Digest, offset: Int64) async throws -> RegistryResponse {
        var headers = HTTPHeaders()
        if offset > 0 { headers.add(name: "Range", value: "bytes=\(offset)-") }
        let url = endpoint.url("blobs", digest.description)
        let response = try await request(.GET, url, headers: headers)
        guard response.status == .ok || response.status == .partialContent else {
            throw await statusError(response, method: "GET", url: url, notFound: "blob \(digest) not found")
        }
        return response
    }

    /// A small blob (an image config) read whole and verified.
    func smallBlob(_ digest: Digest, size: Int64) async throws -> [UInt8] {
        guard size <= Self.maxManifestSize else {
            throw RegistryError(.invalidContent, "config \(digest) is \(size) bytes; more than \(Self.maxManifestSize) is refused")
        }
        let response = try await blob(digest, offset: 0)
        let bytes = try await response.collect(limit: Self.maxManifestSize, what: "blob \(digest)")
        let actual = Digest.of(bytes)
        guard actual == digest, Int64(bytes.count) == size else {
            throw RegistryError(.invalidContent, "blob \(digest) from \(endpoint) is corrupt: got \(bytes.count) bytes with digest \(actual)")
        }
        return bytes
    }

    /// A request with the registry's authentication: the known answer up front, and on a 401
    /// the challenge answered and the request sent again, once.
    func request(_ method: HTTPMethod, _ url: String, headers: HTTPHeaders) async throws -> RegistryResponse {
        let before = try await authorizer.authorization(for: endpoint, credential: credential, scope: scope)
        let first = try await transport.send(method, url, headers: headers, authorization: before, tls: endpoint.tls)
        guard first.status == .unauthorized else { return first }
        let challenges = first.headers[canonicalForm: "WWW-Authenticate"].map(String.init)
        let refused = await Self.serverMessage(first)
        guard let answer = try await authorizer.authorize(challenges, endpoint: endpoint, credential: credential,
                                                          scope: scope, refresh: before != nil)
        else {
            throw RegistryError(.unauthorized, Self.accessDenied(refused.isEmpty ? "401 Unauthorized" : refused))
        }
        let second = try await transport.send(method, url, headers: headers, authorization: answer, tls: endpoint.tls)
        if second.status == .unauthorized {
            let message = await Self.serverMessage(second)
            throw RegistryError(.unauthorized, Self.accessDenied(message.isEmpty ? "401 Unauthorized" : message))
        }
        return second
    }

    /// The error for an unexpected status, with the registry's own code and message.
    func statusError(_ response: RegistryResponse, method: String, url: String, notFound: String) async -> RegistryError {
        let message = await Self.serverMessage(response)
        let code = response.status.code
        let status = "\(code) \(response.status.reasonPhrase)"
        switch code {
        case 404:
            return RegistryError(.notFound, notFound + (message.isEmpty ? "" : " (\(message))"))
        case 401, 403:
            return RegistryError(.unauthorized, Self.accessDenied(message.isEmpty ? status : "\(status): \(message)"))
        default:
            return RegistryError(.server, "unexpected status from \(method) request to \(url): \(status)"
                                 + (message.isEmpty ? "" : " (\(message))"))
        }
    }

    /// containerd's wording of a refused pull, with the registry's reason.
    static func accessDenied(_ reason: String) -> String {
        "pull access denied, repository does not exist or may require authorization: server message: \(reason)"
    }

    /// `CODE: message` from the registry's error document
    /// (`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`), or "".
    static func serverMessage(_ response: RegistryResponse) async -> String {
        struct Errors: Decodable {
            struct Entry: Decodable {
                var code: String?
                var message: String?
            }
            var errors: [Entry]?
            var details: String?
        }
        guard let bytes = try? await response.collect(limit: 64 * 1024, what: "error"),
              let document = try? JSONDecoder().decode(Errors.self, from: Data(bytes))
        else { return "" }
        let entries = (document.errors ?? []).prefix(3).map { entry in
            [entry.code, entry.message].compactMap { $0 }.joined(separator: ": ").prefix(200)
        }
        let text = entries.isEmpty ? (document.details.map { String($0.prefix(200)) } ?? "") : entries.joined(separator: "; ")
        return text
    }
}
