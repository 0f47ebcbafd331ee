import APIMachinery
import APIRegistry
import Foundation
import Hummingbird
import KubeAPI
import Logging

/// The HTTP face of `APIService`: routes Kubernetes paths, negotiates representations,
/// streams watches, and turns every failure into a `Status` body.
struct APIHandler: HTTPResponder {
    typealias Context = BasicRequestContext

    let service: APIService
    let discovery: Discovery
    let openAPI: OpenAPI
    let maxBodyBytes: Int
    let serverAddress: String
    let authenticator: Authenticator?
    let caCertificatePEM: String?
    let logger: Logger
    /// Streams `pods/{name}/log` from kubelets.
    let podLogs: PodLogProxy
    /// The store check behind /readyz, shared for a second.
    let storageHealth = StorageHealth()

    func respond(to request: Request, context: Context) async throws -> Response {
        do {
            return try await route(request)
        } catch {
            if error.code >= 500 {
                logger.error("request failed", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)"])
            }
            // Errors on API paths are negotiated like their objects: a client that prefers
            // protobuf (client-go's default) reads a protobuf Status.
            let encoding = RequestInfo(path: request.uri.path) != nil ? MediaTypes.statusEncoding(accept: request.headers[.accept]) : .json
            return Self.errorResponse(error, encoding: encoding)
        }
    }

    private func route(_ request: Request) async throws(APIError) -> Response {
        let path = request.uri.path
        // Authentication, and the security layer's own endpoints (Security/APIHandler+Security.swift).
        let user: UserInfo?
        switch try await secure(request, path: path) {
        case .respond(let response): return response
        case .proceed(let identity): user = identity
        }
        if path == "/cacerts" {
            guard let caCertificatePEM else { throw APIError.pathNotFound() }
            return Self.text(caCertificatePEM)
        }
        if let info = RequestInfo(path: path) {
            return try await ResourceRequest(handler: self, request: request, info: info, user: user).handle()
        }
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let parts = trimmed.split(separator: "/").map(String.init)
        guard request.method == .get || request.method == .head else {
            throw parts.first == "api" || parts.first == "apis" ? APIError.methodNotAllowed() : APIError.pathNotFound()
        }
        switch parts.first {
        case "version":
            return Self.json(discovery.version)
        case "openapi":
            return try openAPI.respond(request, parts: parts)
        case "healthz", "livez", "readyz":
            return try await health(parts, verbose: request.uri.query?.contains("verbose") == true)
        case "api":
            switch parts.count {
            case 1: return Self.json(discovery.coreVersions(serverAddress: serverAddress))
            case 2:
                guard let list = discovery.resourceList(group: "", version: parts[1]) else { throw APIError.pathNotFound() }
                return Self.json(list)
            default: throw APIError.pathNotFound()
            }
        case "apis":
            switch parts.count {
            case 1: return Self.json(discovery.groupList)
            case 2:
                guard let group = discovery.group(parts[1]) else { throw APIError.pathNotFound() }
                return Self.json(group)
            case 3:
                guard let list = discovery.resourceList(group: parts[1], version: parts[2]) else { throw APIError.pathNotFound() }
                return Self.json(list)
            default: throw APIError.pathNotFound()
            }
        default:
            throw APIError.pathNotFound()
        }
    }

    // MARK: - Responses

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, warnings: [String] = []) -> Response {
        json(bytes: JSONSerializer.serializeInTypeOrder(value), status: status, warnings: warnings)
    }

    /// A response of JSON already written (without the final newline kube-apiserver adds).
    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok, warnings: [String] = []) -> Response {
        var bytes = bytes
        bytes.append(UInt8(ascii: "\n"))
        return response(bytes, contentType: MediaTypes.json, status: status, warnings: warnings)
    }

    /// A response of `value` in `encoding`: JSON, or protobuf for kinds with a protobuf schema
    /// (anything else, which negotiation does not let through, is written as JSON).
    static func object(_ value: JSONValue, encoding: MediaTypes.Encoding, status: HTTPResponse.Status = .ok,
                       warnings: [String] = []) throws(APIError) -> Response {
        guard encoding == .protobuf else { return json(value, status: status, warnings: warnings) }
        return protobuf(bytes: try ProtobufEncoder.encodeObject(value), status: status, warnings: warnings)
    }

    /// A response of protobuf already written (`k8s\0` and the envelope).
    static func protobuf(bytes: [UInt8], status: HTTPResponse.Status = .ok, warnings: [String] = []) -> Response {
        response(bytes, contentType: MediaTypes.protobuf, status: status, warnings: warnings)
    }

    /// A body of `contentType` with the admission warnings as `Warning` headers (RFC 7234:
    /// code 299, agent "-", quoted text; several are comma-separated).
    private static func response(_ bytes: [UInt8], contentType: String, status: HTTPResponse.Status, warnings: [String]) -> Response {
        var headers: HTTPFields = [.contentType: contentType]
        if !warnings.isEmpty, let name = HTTPFields.warningName {
            headers[name] = warnings.map { "299 - \(ObjectValidation.quote($0))" }.joined(separator: ", ")
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func text(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func errorResponse(_ error: APIError, encoding: MediaTypes.Encoding = .json) -> Response {
        let status = HTTPResponse.Status(code: error.code)
        if encoding == .protobuf, let bytes = try? ProtobufEncoder.encodeObject(error.status) {
            return protobuf(bytes: bytes, status: status)
        }
        return json(error.status, status: status)
    }

    /// Reads the whole body, refusing more than the limit (Kubernetes' 3 MiB by default).
    func body(of request: Request) async throws(APIError) -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await buffer in request.body {
                guard bytes.count + buffer.readableBytes <= maxBodyBytes else {
                    throw APIError.requestEntityTooLarge(limit: maxBodyBytes)
                }
                bytes.append(contentsOf: buffer.readableBytesView)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("reading the request body failed: \(error)")
        }
        return bytes
    }
}

extension HTTPFields {
    /// The `Warning` header that kubectl prints as "Warning: ...".
    static let warningName = HTTPFields.Element.Name("Warning")
}
