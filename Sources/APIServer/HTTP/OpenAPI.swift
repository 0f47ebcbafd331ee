import APIMachinery
import APIRegistry
import Crypto
import Foundation
import Hummingbird
import KubeAPI
import Synchronization

/// `/openapi/v2` (JSON and gnostic protobuf) and `/openapi/v3` (the index and one document per
/// group-version), served as kube-openapi's handlers serve them: each document is built once,
/// on first request, and its bytes kept; its ETag is the SHA-512 of the bytes in upper-case
/// hex, so the v3 index's `?hash=` changes whenever a document's content does. `If-None-Match`
/// with the current ETag answers 304; a v3 request with a stale `hash` is redirected (301) to
/// the current one; one with the current hash may be cached for a year (`immutable`).
/// The documents: `OpenAPIV2`, `OpenAPIV3`, `OpenAPIProtobuf`; their schemas: `OpenAPISchemas`.
final class OpenAPI: Sendable {
    let registry: ResourceRegistry
    let gitVersion: String

    /// One built document.
    struct Built: Sendable {
        let bytes: [UInt8]
        /// SHA-512 of `bytes`, upper-case hex (kube-openapi's computeETag).
        let hash: String
    }

    private struct Documents {
        var v2JSON: Built?
        var v2Protobuf: Built?
        var v3: [String: Built] = [:]
        var index: Built?
    }

    private let documents = Mutex(Documents())

    init(registry: ResourceRegistry, gitVersion: String) {
        self.registry = registry
        self.gitVersion = gitVersion
    }

    // MARK: - Documents

    /// The v2 document as JSON.
    var v2JSON: Built {
        cached(\.v2JSON) { Self.build { JSONSerializer.serialize(OpenAPIV2.document(registry: registry, gitVersion: gitVersion)) } }
    }

    /// The v2 document in protobuf.
    var v2Protobuf: Built {
        cached(\.v2Protobuf) { Self.build { OpenAPIProtobuf.v2(OpenAPIV2.document(registry: registry, gitVersion: gitVersion)) } }
    }

    /// The document of a group-version by its index path (`api/v1`, `apis/apps/v1`); nil when
    /// that group-version is not served.
    func v3(_ path: String) -> Built? {
        if let done = documents.withLock({ $0.v3[path] }) { return done }
        guard let served = registry.groupVersions.first(where: { OpenAPIV3.indexPath(group: $0.group, version: $0.version) == path }),
              let document = OpenAPIV3.document(registry: registry, group: served.group, version: served.version, gitVersion: gitVersion) else {
            return nil
        }
        let built = Self.build { JSONSerializer.serialize(document) }
        // Built outside the lock (a document takes milliseconds); a concurrent first request
        // builds the same bytes.
        return documents.withLock { state in
            if let done = state.v3[path] { return done }
            state.v3[path] = built
            return built
        }
    }

    /// `GET /openapi/v3`: every served group-version and the URL of its document with its hash.
    var index: Built {
        cached(\.index) {
            var paths: [String: JSONValue] = [:]
            for (group, version) in registry.groupVersions {
                let path = OpenAPIV3.indexPath(group: group, version: version)
                guard let document = v3(path) else { continue }
                paths[path] = .object(["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(document.hash)")])
            }
            return Self.build { JSONSerializer.serialize(.object(["paths": .object(paths)])) }
        }
    }

    private func cached(_ field: WritableKeyPath<Documents, Built?>, _ make: () -> Built) -> Built {
        if let done = documents.withLock({ $0[keyPath: field] }) { return done }
        let built = make()
        return documents.withLock { state in
            if let done = state[keyPath: field] { return done }
            state[keyPath: field] = built
            return built
        }
    }

    private static func build(_ make: () -> [UInt8]) -> Built {
        let bytes = make()
        return Built(bytes: bytes, hash: hash(bytes))
    }

    /// SHA-512 in upper-case hex, as kube-openapi's computeETag prints it (`%X`).
    static func hash(_ bytes: [UInt8]) -> String {
        SHA512.hash(data: bytes).map { String(format: "%02X", $0) }.joined()
    }

    // MARK: - HTTP

    /// Answers `/openapi/v2` and `/openapi/v3[/...]` (`parts` are the path's segments).
    func respond(_ request: Request, parts: [String]) throws(APIError) -> Response {
        let accept = request.headers[.accept] ?? ""
        if parts.count == 2, parts[1] == "v2" {
            if accept.contains("protobuf") {
                // The media type asked for has an '@', which Go's mime parser rejects in a
                // Content-Type: like kube-openapi, answer application/octet-stream.
                return Self.serve(v2Protobuf, contentType: "application/octet-stream", request: request)
            }
            return Self.serve(v2JSON, contentType: MediaTypes.json, request: request)
        }
        guard parts.count >= 2, parts[1] == "v3" else { throw APIError.pathNotFound() }
        if parts.count == 2 { return Self.serve(index, contentType: MediaTypes.json, request: request) }
        let path = parts.dropFirst(2).joined(separator: "/")
        guard let document = v3(path) else { throw APIError.pathNotFound() }
        // Only JSON is served for v3 (kube-openapi also offers gnostic's v3 protobuf, which
        // kubectl does not ask for): a request that accepts neither gets 406, as upstream.
        if !accept.isEmpty, !Self.acceptsJSON(accept) {
            throw APIError.notAcceptable([MediaTypes.json])
        }
        var headers: HTTPFields = [:]
        if let hash = URLQuery.parse(request.uri.query)["hash"], !hash.isEmpty {
            guard hash == document.hash else {
                // A stale hash: send the client to the current document (kube-openapi's handler3).
                return Response(status: .movedPermanently, headers: [.location: "/openapi/v3/\(path)?hash=\(document.hash)"])
            }
            headers[.cacheControl] = "public, immutable"
            headers[.expires] = Self.httpDate(Date().addingTimeInterval(365 * 24 * 3600))
        }
        headers[.vary] = "Accept"
        return Self.serve(document, contentType: MediaTypes.json, request: request, extra: headers)
    }

    private static func acceptsJSON(_ accept: String) -> Bool {
        accept.split(separator: ",").contains { range in
            let type = range.split(separator: ";").first.map { String($0).trimmingSpaces.lowercased() } ?? ""
            return type == "application/json" || type == "application/*" || type == "*/*"
        }
    }

    /// The bytes with their ETag; 304 when `If-None-Match` names it; no body for HEAD.
    private static func serve(_ built: Built, contentType: String, request: Request, extra: HTTPFields = [:]) -> Response {
        var headers = extra
        let etag = "\"\(built.hash)\""
        headers[.eTag] = etag
        if let match = request.headers[.ifNoneMatch],
           match.split(separator: ",").contains(where: { let tag = String($0).trimmingSpaces; return tag == etag || tag == "*" || tag == "W/" + etag }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = contentType
        if request.method == .head {
            headers[.contentLength] = String(built.bytes.count)
            return Response(status: .ok, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: built.bytes)))
    }

    private static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
