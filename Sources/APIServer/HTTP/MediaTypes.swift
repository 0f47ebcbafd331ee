import APIMachinery
import Foundation
import KubeAPI

/// Content negotiation: which representation a response takes (a plain object or a
/// `meta.k8s.io` Table), and how request bodies are read (JSON or YAML).
enum MediaTypes {
    static let json = "application/json"
    static let yaml = "application/yaml"
    static let protobuf = "application/vnd.kubernetes.protobuf"
    static let mergePatch = "application/merge-patch+json"
    static let jsonPatch = "application/json-patch+json"
    static let strategicMergePatch = "application/strategic-merge-patch+json"
    static let applyPatch = "application/apply-patch+yaml"

    /// What the client asked for in `Accept`.
    enum Representation: Equatable {
        case object
        /// A Table in meta.k8s.io `version` (v1 or v1beta1).
        case table(version: String)
        /// Metadata only, as client-go's metadata client and informers ask for it:
        /// `PartialObjectMetadata` (`list` false) or `PartialObjectMetadataList` in meta.k8s.io
        /// `version` (v1 or v1beta1).
        case partialMetadata(version: String, list: Bool)

        /// The object, or just its metadata in a `PartialObjectMetadata` of `version`.
        static func partial(_ object: KubeObject, version: String) -> JSONValue {
            .object(["kind": .string("PartialObjectMetadata"), "apiVersion": .string("meta.k8s.io/\(version)"),
                     "metadata": object.fields["metadata"] ?? .object([:])])
        }
    }

    /// The first acceptable representation in `Accept` order: kubectl asks for a Table
    /// first and plain JSON as the fallback. Protobuf-only requests cannot be served.
    static func representation(accept: String?) throws(APIError) -> Representation {
        guard let accept, !accept.isEmpty else { return .object }
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { String($0).trimmingSpaces }
            guard let type = parts.first?.lowercased() else { continue }
            var parameters: [String: String] = [:]
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { parameters[pair[0].trimmingSpaces] = pair[1].trimmingSpaces }
            }
            guard type == json || type == "*/*" || type == "application/*" else { continue }
            switch parameters["as"] {
            case nil:
                return .object
            case "Table" where parameters["g"] == "meta.k8s.io" && (parameters["v"] == "v1" || parameters["v"] == "v1beta1"):
                return .table(version: parameters["v"] ?? "v1")
            case "PartialObjectMetadata" where parameters["g"] == "meta.k8s.io" && (parameters["v"] == "v1" || parameters["v"] == "v1beta1"):
                return .partialMetadata(version: parameters["v"] ?? "v1", list: false)
            case "PartialObjectMetadataList" where parameters["g"] == "meta.k8s.io" && (parameters["v"] == "v1" || parameters["v"] == "v1beta1"):
                return .partialMetadata(version: parameters["v"] ?? "v1", list: true)
            default:
                // Another `as=` (a version of meta.k8s.io not served, another kind): not this
                // range; upstream answers 406 when no range is left.
                continue
            }
        }
        throw APIError.notAcceptable([json, "application/json;as=Table;v=v1;g=meta.k8s.io",
                                      "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
                                      "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", yaml])
    }

    /// Whether a Content-Type names JSON (or nothing, which is read as JSON).
    static func isJSON(_ contentType: String?) -> Bool {
        [json, "", "*/*", "text/plain"].contains(mediaType(contentType))
    }

    /// The media type of a Content-Type header, lower-cased, without parameters.
    static func mediaType(_ contentType: String?) -> String {
        guard let contentType else { return json }
        return contentType.split(separator: ";").first.map { String($0).trimmingSpaces.lowercased() } ?? json
    }

    /// Bodies at least this large are parsed on a thread of their own.
    static let offPoolBytes = 256 * 1024

    /// `decodeBody` for a request handler: a large body (up to the 3 MiB limit; a YAML one
    /// takes a few hundred milliseconds) is parsed on a thread of its own, so it never holds
    /// one of the cooperative pool's threads (two on the build machines) for that long.
    static func decode(_ bytes: [UInt8], contentType: String?) async throws(APIError) -> JSONValue {
        guard bytes.count >= offPoolBytes else { return try decodeBody(bytes, contentType: contentType) }
        let result: Result<JSONValue, APIError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(APIError) -> JSONValue in try decodeBody(bytes, contentType: contentType) })
            }
            // Nesting is bounded at 200 levels; 4 MiB of stack is plenty for the recursive parsers.
            thread.stackSize = 4 * 1024 * 1024
            thread.start()
        }
        return try result.get()
    }

    /// Parses a create/update body in JSON or YAML into a JSON value.
    static func decodeBody(_ bytes: [UInt8], contentType: String?) throws(APIError) -> JSONValue {
        let type = mediaType(contentType)
        switch type {
        case json, mergePatch, jsonPatch, strategicMergePatch, "", "*/*", "text/plain":
            do {
                return try JSONParser.parse(bytes)
            } catch {
                throw APIError.badRequest("the request body is not valid JSON: \(error.message) (at byte \(error.offset))")
            }
        case yaml, "application/x-yaml", "text/yaml", applyPatch:
            return try decodeYAML(bytes)
        case protobuf:
            return try ProtobufDecoder.decodeObject(bytes)
        default:
            throw APIError.unsupportedMediaType(type, accepted: [json, yaml, protobuf])
        }
    }

    /// YAML into the JSON data model, as the API server's YAML serializer reads it
    /// (KubeAPI's `Manifest.jsonValue`): merge keys, aliases expanded within go-yaml's limits,
    /// nesting bounded before anything is built, and `.inf`/`.nan` refused with their path
    /// because JSON, and so the store, cannot hold them.
    static func decodeYAML(_ bytes: [UInt8]) throws(APIError) -> JSONValue {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw APIError.badRequest("the request body is not valid YAML: it is not UTF-8 text")
        }
        let value: JSONValue?
        do {
            value = try Manifest.jsonValue(yaml: text)
        } catch let failure as DecodingFailure {
            throw APIError.badRequest("error converting YAML to JSON: \(failure)")
        } catch {
            throw APIError.badRequest("error converting YAML to JSON: \(error)")
        }
        guard let value else {
            throw APIError.badRequest("the request body is an empty YAML document")
        }
        return value
    }
}
