import APIMachinery
import KubeAPI

/// Kubernetes' strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch), what
/// `kubectl apply`, `edit`, `set image` and `rollout pause` send: a JSON merge patch in
/// which lists of objects merge element by element on a merge key (containers by name,
/// ports by containerPort, ...) instead of being replaced, plus the directives `$patch`
/// (replace, delete, merge), `$setElementOrder/<list>`, `$retainKeys` and
/// `$deleteFromPrimitiveList/<list>`.
///
/// The merge keys are those of the Go struct tags (`patchMergeKey`, `patchStrategy`) of the
/// built-in types this server serves, read by `StrategicMergeSchema`.
package enum StrategicMergePatch {
    /// Applies `patch` to `original`, an object of `kind` in `group`.
    package static func apply(_ patch: JSONValue, to original: JSONValue, kind: String, group: String = "") throws(APIError) -> JSONValue {
        guard case .object = patch else {
            throw APIError.badRequest("the strategic merge patch must be a JSON object, not \(patch.typeName)")
        }
        let schema = StrategicMergeSchema.rules(for: kind, group: group)
        return try mergeMap(original, patch, path: "", schema: schema) ?? .object([:])
    }

    /// Merges a patch map into an original value; nil means "delete this map".
    private static func mergeMap(_ original: JSONValue, _ patch: JSONValue, path: String,
                                 schema: [String: StrategicMergeSchema.Rule]) throws(APIError) -> JSONValue? {
        guard var patchMembers = patch.objectValue else { return patch }
        switch patchMembers.removeValue(forKey: "$patch")?.stringValue {
        case "replace"?:
            return .object(try strippedDirectives(patchMembers))
        case "delete"?:
            return nil
        case nil, "merge"?:
            break
        case let other?:
            throw APIError.badRequest("unknown patch type: \(other) in map: \(path)")
        }
        var result = original.objectValue ?? [:]
        let retainKeys = patchMembers.removeValue(forKey: "$retainKeys")?.arrayValue?.compactMap(\.stringValue)
        var orders: [String: [JSONValue]] = [:]
        for key in patchMembers.keys where key.hasPrefix("$setElementOrder/") {
            orders[String(key.dropFirst("$setElementOrder/".count))] = patchMembers[key]?.arrayValue ?? []
            patchMembers[key] = nil
        }
        for key in patchMembers.keys where key.hasPrefix("$deleteFromPrimitiveList/") {
            let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
            let removed = patchMembers[key]?.arrayValue ?? []
            if let list = result[field]?.arrayValue {
                result[field] = .array(list.filter { !removed.contains($0) })
            }
            patchMembers[key] = nil
        }
        for (key, value) in patchMembers {
            let childPath = path.isEmpty ? key : path + "." + key
            switch value {
            case .null:
                result[key] = nil
            case .object:
                if let merged = try mergeMap(result[key] ?? .object([:]), value, path: childPath, schema: schema) {
                    result[key] = merged
                } else {
                    result[key] = nil
                }
            case .array(let elements):
                result[key] = try mergeList(result[key]?.arrayValue ?? [], elements, path: childPath, schema: schema)
            default:
                result[key] = value
            }
        }
        for (field, order) in orders {
            if let list = result[field]?.arrayValue {
                let childPath = path.isEmpty ? field : path + "." + field
                result[field] = .array(reorder(list, by: order, key: schema[childPath]?.mergeKey))
            }
        }
        if let retainKeys {
            result = result.filter { retainKeys.contains($0.key) }
        }
        return .object(result)
    }

    private static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], path: String,
                                  schema: [String: StrategicMergeSchema.Rule]) throws(APIError) -> JSONValue {
        guard let rule = schema[path] else {
            // No merge strategy: the list is replaced, as in a JSON merge patch.
            return .array(patch)
        }
        guard let mergeKey = rule.mergeKey else {
            // A merged list of primitives (finalizers): the union, original order first.
            var merged = original
            for element in patch where !merged.contains(element) { merged.append(element) }
            return .array(merged)
        }
        // `{"$patch": "replace"}` as an element replaces the whole list with the others.
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" && $0.objectValue?.count == 1 }) {
            return .array(try patch.filter { !($0["$patch"]?.stringValue == "replace" && $0.objectValue?.count == 1) }
                .map { (element) throws(APIError) in .object(try strippedDirectives(element.objectValue ?? [:])) })
        }
        var merged = original
        for element in patch {
            guard let members = element.objectValue else {
                throw APIError.badRequest("the strategic merge patch has a \(element.typeName) in \(path), a list merged by \(mergeKey)")
            }
            guard let keyValue = members[mergeKey] else {
                throw APIError.badRequest("map: \(renderGoMap(members)) does not contain declared merge key: \(mergeKey)")
            }
            let index = merged.firstIndex { $0[mergeKey] == keyValue }
            if members["$patch"]?.stringValue == "delete" {
                if let index { merged.remove(at: index) }
                continue
            }
            if let index {
                if let updated = try mergeMap(merged[index], element, path: path, schema: schema) {
                    merged[index] = updated
                } else {
                    merged.remove(at: index)
                }
            } else if let added = try mergeMap(.object([:]), element, path: path, schema: schema) {
                merged.append(added)
            }
        }
        return .array(merged)
    }

    /// Orders `list` as `order` says (by merge key for objects, by value for primitives);
    /// elements the order does not name keep their relative order at the end.
    private static func reorder(_ list: [JSONValue], by order: [JSONValue], key: String?) -> [JSONValue] {
        func identity(_ value: JSONValue) -> JSONValue? {
            guard let key else { return value }
            return value[key]
        }
        let positions = Dictionary(order.enumerated().compactMap { index, value in identity(value).map { (JSONSerializer.serialize($0), index) } },
                                   uniquingKeysWith: { first, _ in first })
        return list.enumerated().sorted { lhs, rhs in
            let left = identity(lhs.element).flatMap { positions[JSONSerializer.serialize($0)] } ?? Int.max
            let right = identity(rhs.element).flatMap { positions[JSONSerializer.serialize($0)] } ?? Int.max
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
    }

    /// A patch fragment used as a value: directives removed recursively.
    private static func strippedDirectives(_ members: [String: JSONValue]) throws(APIError) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (key, value) in members where !key.hasPrefix("$") {
            if let nested = value.objectValue {
                result[key] = .object(try strippedDirectives(nested))
            } else {
                result[key] = value
            }
        }
        return result
    }

    private static func renderGoMap(_ members: [String: JSONValue]) -> String {
        "map[" + members.keys.sorted().map { key in
            "\(key):\(members[key]?.stringValue ?? String(decoding: JSONSerializer.serialize(members[key] ?? .null), as: UTF8.self))"
        }.joined(separator: " ") + "]"
    }
}
