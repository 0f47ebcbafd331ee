import APIMachinery
import Foundation
import KubeAPI

/// Content negotiation: which representation a response takes (a plain object or a
/// `meta.k8s.io` Table) in which encoding (JSON or protobuf), and how request bodies are read
/// (JSON, YAML or protobuf).
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

    /// How a response body is written.
    enum Encoding: Equatable {
        case json
        /// `application/vnd.kubernetes.protobuf` (ProtobufEncoder).
        case protobuf
    }

    /// What a request negotiated: the representation and its encoding.
    struct Negotiated: Equatable {
        var representation: Representation
        var encoding: Encoding
    }

    /// The media types kube-apiserver names when nothing in `Accept` can be served
    /// (NewNotAcceptableError with its serializers' types).
    static let acceptedTypes = [json, yaml, protobuf]

    /// The representation the first acceptable clause of `Accept` asks for, as
    /// kube-apiserver's negotiation picks it (negotiation.NegotiateMediaTypeOptions):
    /// clauses in goautoneg's order (`AcceptClause.parse`), and per clause JSON before
    /// protobuf (a `*/*` gets JSON). JSON may ask for a Table or PartialObjectMetadata;
    /// protobuf only for the object itself (kube-apiserver's AllowsMediaTypeTransform allows a
    /// Table only in JSON or YAML; metadata-only protobuf is not built here, and the clients
    /// that ask for it list JSON next) and only for kinds with a protobuf schema
    /// (`protobufAvailable`); CustomResourceDefinitions' handler likewise serves no protobuf.
    /// YAML responses are not built either. 406 when no clause is left.
    static func negotiate(accept: String?, protobufAvailable: Bool) throws(APIError) -> Negotiated {
        guard let accept, !accept.isEmpty else { return Negotiated(representation: .object, encoding: .json) }
        for clause in AcceptClause.parse(accept) {
            // A stream other than watch is no stream a serializer has.
            if let stream = clause.parameters["stream"], !stream.isEmpty, stream != "watch" { continue }
            if clause.matches(json), let representation = jsonRepresentation(clause.parameters) {
                return Negotiated(representation: representation, encoding: .json)
            }
            if protobufAvailable, clause.matches(protobuf), clause.convert == nil {
                return Negotiated(representation: .object, encoding: .protobuf)
            }
        }
        throw APIError.notAcceptable(acceptedTypes)
    }

    /// The encoding of a `Status` for a request whose `Accept` is `accept`: errors are
    /// negotiated without conversions (responsewriters.ErrorNegotiated uses
    /// DefaultEndpointRestrictions, so `as=Table` clauses are skipped), and when no clause
    /// fits they are written as JSON (WriteRawJSON), never a second 406.
    static func statusEncoding(accept: String?) -> Encoding {
        guard let accept, !accept.isEmpty else { return .json }
        for clause in AcceptClause.parse(accept) where clause.convert == nil {
            if let stream = clause.parameters["stream"], !stream.isEmpty, stream != "watch" { continue }
            if clause.matches(json) { return .json }
            if clause.matches(protobuf) { return .protobuf }
        }
        return .json
    }

    /// A JSON clause's representation by its `as`, `g` and `v`; nil when not served.
    private static func jsonRepresentation(_ parameters: [String: String]) -> Representation? {
        let version = parameters["v"] ?? ""
        let metaVersion = parameters["g"] == "meta.k8s.io" && (version == "v1" || version == "v1beta1")
        switch parameters["as"] {
        case nil:
            return .object
        case "Table" where metaVersion:
            return .table(version: version)
        case "PartialObjectMetadata" where metaVersion:
            return .partialMetadata(version: version, list: false)
        case "PartialObjectMetadataList" where metaVersion:
            return .partialMetadata(version: version, list: true)
        default:
            // Another `as=` (a version of meta.k8s.io not served, another kind): not this
            // clause; upstream answers 406 when no clause is left.
            return nil
        }
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
