import APIMachinery
import Foundation
import KubeAPI
import Yams

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
    }

    /// The first acceptable representation in `Accept` order: kubectl asks for a Table
    /// first and plain JSON as the fallback. Protobuf-only requests cannot be served.
    static func representation(accept: String?) throws(APIError) -> Representation {
        guard let accept, !accept.isEmpty else { return .object }
        var sawServable = false
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
            default:
                sawServable = true
            }
        }
        if sawServable { return .object }
        throw APIError.notAcceptable([json, "application/json;as=Table;v=v1;g=meta.k8s.io", yaml])
    }

    /// The media type of a Content-Type header, lower-cased, without parameters.
    static func mediaType(_ contentType: String?) -> String {
        guard let contentType else { return json }
        return contentType.split(separator: ";").first.map { String($0).trimmingSpaces.lowercased() } ?? json
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

    /// YAML into the JSON data model (what the API server's YAML serializer does).
    static func decodeYAML(_ bytes: [UInt8]) throws(APIError) -> JSONValue {
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw APIError.badRequest("the request body is an empty YAML document")
            }
            return try json(from: node)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("the request body is not valid YAML: \(error)")
        }
    }

    private static func json(from node: Yams.Node, depth: Int = 0) throws(APIError) -> JSONValue {
        guard depth < JSONParser.maximumDepth else {
            throw APIError.badRequest("the YAML body nests deeper than \(JSONParser.maximumDepth) levels")
        }
        switch node {
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map { .bool($0) } ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map { .double($0) } ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                members[key.string ?? ""] = try json(from: value, depth: depth + 1)
            }
            return .object(members)
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            for element in sequence {
                elements.append(try json(from: element, depth: depth + 1))
            }
            return .array(elements)
        case .alias:
            throw APIError.badRequest("YAML aliases are not supported in request bodies")
        }
    }
}
