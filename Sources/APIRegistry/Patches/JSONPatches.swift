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

    /// The most operations one JSON patch may have (kube-apiserver's `maxJSONPatchOperations`).
    package static let maximumOperations = 10_000

    /// How much `copy` operations may add to a document in all (the API server's
    /// `JSONPatchMaxCopyBytes`, 3 MiB): without a bound, each copy of a subtree into itself
    /// doubles the document, and a few dozen operations make it exabytes.
    package static let maximumCopyBytes = 3 * 1024 * 1024

    /// RFC 6902: a list of add/remove/replace/move/copy/test operations on JSON pointers.
    package static func jsonPatch(_ target: JSONValue, operations patch: JSONValue) throws(APIError) -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw APIError.badRequest("json: cannot unmarshal \(patch.typeName) into Go value of type jsonpatch.Patch")
        }
        guard operations.count <= maximumOperations else {
            throw APIError(code: 413, reason: "RequestEntityTooLarge",
                           message: "Request entity too large: The allowed maximum operations in a JSON patch is \(maximumOperations), got \(operations.count)")
        }
        var document = target
        var copiedBytes = 0
        for operation in operations {
            guard let op = operation["op"]?.stringValue else {
                throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: missing 'op' field")
            }
            let path = try pointer(operation["path"]?.stringValue, op: op)
            switch op {
            case "add":
                let added = try value(of: operation, op: op)
                try checkDepth(added, at: path)
                document = try add(document, at: path[...], value: added)
            case "remove":
                document = try remove(document, at: path[...])
            case "replace":
                let replacement = try value(of: operation, op: op)
                try checkDepth(replacement, at: path)
                _ = try get(document, at: path[...])
                document = try remove(document, at: path[...])
                document = try add(document, at: path[...], value: replacement)
            case "move", "copy":
                let from = try pointer(operation["from"]?.stringValue, op: op, field: "from")
                let moved = try get(document, at: from[...])
                try checkDepth(moved, at: path)
                if op == "copy" {
                    // evanphx/json-patch's AccumulatedCopySizeLimit, as the API server arms it.
                    let size = serializedSize(of: moved, atMost: maximumCopyBytes - copiedBytes + 1)
                    copiedBytes += size
                    if copiedBytes > maximumCopyBytes {
                        throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: Unable to complete the copy, the accumulated size increase of copy is more than the limit \(maximumCopyBytes)")
                    }
                }
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

    /// A value put at `path` must leave the document within the nesting the store reads back
    /// (`JSONParser.maximumDepth`); operation after operation could otherwise nest it
    /// without end.
    private static func checkDepth(_ value: JSONValue, at path: [String]) throws(APIError) {
        let limit = JSONParser.maximumDepth
        guard path.count + depth(of: value, atMost: limit + 1) <= limit else {
            throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: the value at \(ObjectValidation.quote(render(path))) would nest the object deeper than \(limit) levels")
        }
    }

    /// The nesting of objects and arrays in `value`, counting no further than `limit`.
    static func depth(of value: JSONValue, atMost limit: Int) -> Int {
        guard limit > 0 else { return 0 }
        switch value {
        case .object(let members): return 1 + (members.values.map { depth(of: $0, atMost: limit - 1) }.max() ?? 0)
        case .array(let elements): return 1 + (elements.map { depth(of: $0, atMost: limit - 1) }.max() ?? 0)
        default: return 0
        }
    }

    /// The length of `value`'s compact JSON, counting no further than `limit` (a copied
    /// subtree shares storage, so its size is only known by walking it; the walk stops early).
    static func serializedSize(of value: JSONValue, atMost limit: Int) -> Int {
        var total = 0
        func walk(_ value: JSONValue) {
            guard total < limit else { return }
            switch value {
            case .object(let members):
                total += 2
                for (key, member) in members {
                    total += key.utf8.count + 4
                    walk(member)
                    if total >= limit { return }
                }
            case .array(let elements):
                total += 2
                for element in elements {
                    total += 1
                    walk(element)
                    if total >= limit { return }
                }
            case .string(let text): total += text.utf8.count + 2
            default: total += JSONSerializer.serialize(value).count
            }
        }
        walk(value)
        return total
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
