import APIMachinery
import KubeAPI

/// The patch formats of PATCH requests: JSON merge patch (RFC 7386) and JSON patch
/// (RFC 6902), applied to an object's JSON as the API server does before the result goes
/// through the normal update path.
package enum JSONPatches {
    /// RFC 7386: objects merge recursively, `null` removes a member, anything else replaces.
    package static func mergePatch(_ target: JSONValue, with patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if case .null = value {
                result[key] = nil
            } else {
                result[key] = mergePatch(result[key] ?? .null, with: value)
            }
        }
        return .object(result)
    }

    /// RFC 6902: a list of add/remove/replace/move/copy/test operations on JSON pointers.
    package static func jsonPatch(_ target: JSONValue, operations patch: JSONValue) throws(APIError) -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw APIError.badRequest("json: cannot unmarshal \(patch.typeName) into Go value of type jsonpatch.Patch")
        }
        var document = target
        for operation in operations {
            guard let op = operation["op"]?.stringValue else {
                throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: missing 'op' field")
            }
            let path = try pointer(operation["path"]?.stringValue, op: op)
            switch op {
            case "add":
                document = try add(document, at: path[...], value: try value(of: operation, op: op))
            case "remove":
                document = try remove(document, at: path[...])
            case "replace":
                _ = try get(document, at: path[...])
                document = try remove(document, at: path[...])
                document = try add(document, at: path[...], value: try value(of: operation, op: op))
            case "move", "copy":
                let from = try pointer(operation["from"]?.stringValue, op: op, field: "from")
                let moved = try get(document, at: from[...])
                if op == "move" { document = try remove(document, at: from[...]) }
                document = try add(document, at: path[...], value: moved)
            case "test":
                guard try get(document, at: path[...]) == (try value(of: operation, op: op)) else {
                    throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: testing value \(render(path)) failed: test failed")
                }
            default:
                throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: Unexpected kind: \(op)")
            }
        }
        return document
    }

    private static func value(of operation: JSONValue, op: String) throws(APIError) -> JSONValue {
        guard let value = operation["value"] else {
            throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: \(op) operation does not apply: missing 'value' field")
        }
        return value
    }

    private static func pointer(_ text: String?, op: String, field: String = "path") throws(APIError) -> [String] {
        guard let text else {
            throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: \(op) operation is missing '\(field)'")
        }
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else {
            throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: JSON pointer \(ObjectValidation.quote(text)) must start with '/'")
        }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func render(_ path: [String]) -> String {
        "/" + path.joined(separator: "/")
    }

    private static func missing(_ path: ArraySlice<String>) -> APIError {
        APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: path \(ObjectValidation.quote(render(Array(path)))) does not exist")
    }

    private static func get(_ document: JSONValue, at path: ArraySlice<String>) throws(APIError) -> JSONValue {
        var current = document
        for segment in path {
            switch current {
            case .object(let members):
                guard let next = members[segment] else { throw missing(path) }
                current = next
            case .array(let elements):
                guard let index = Int(segment), elements.indices.contains(index) else { throw missing(path) }
                current = elements[index]
            default:
                throw missing(path)
            }
        }
        return current
    }

    private static func add(_ document: JSONValue, at path: ArraySlice<String>, value: JSONValue) throws(APIError) -> JSONValue {
        guard let segment = path.first else { return value }
        switch document {
        case .object(var members):
            if path.count == 1 {
                members[segment] = value
            } else {
                guard let child = members[segment] else { throw missing(path) }
                members[segment] = try add(child, at: path.dropFirst(), value: value)
            }
            return .object(members)
        case .array(var elements):
            if path.count == 1 {
                if segment == "-" {
                    elements.append(value)
                } else {
                    guard let index = Int(segment), index >= 0, index <= elements.count else { throw missing(path) }
                    elements.insert(value, at: index)
                }
            } else {
                guard let index = Int(segment), elements.indices.contains(index) else { throw missing(path) }
                elements[index] = try add(elements[index], at: path.dropFirst(), value: value)
            }
            return .array(elements)
        default:
            throw missing(path)
        }
    }

    private static func remove(_ document: JSONValue, at path: ArraySlice<String>) throws(APIError) -> JSONValue {
        guard let segment = path.first else { throw missing(path) }
        switch document {
        case .object(var members):
            if path.count == 1 {
                guard members.removeValue(forKey: segment) != nil else { throw missing(path) }
            } else {
                guard let child = members[segment] else { throw missing(path) }
                members[segment] = try remove(child, at: path.dropFirst())
            }
            return .object(members)
        case .array(var elements):
            guard let index = Int(segment), elements.indices.contains(index) else { throw missing(path) }
            if path.count == 1 {
                elements.remove(at: index)
            } else {
                elements[index] = try remove(elements[index], at: path.dropFirst())
            }
            return .array(elements)
        default:
            throw missing(path)
        }
    }
}
