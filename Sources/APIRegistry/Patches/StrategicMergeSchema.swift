import APIMachinery
import Synchronization

/// The merge keys of the built-in types' lists, from their Go struct tags
/// (`patchStrategy:"merge" patchMergeKey:"name"`), keyed by dotted field path from the
/// object's root. Read from the same generated definitions the OpenAPI documents and
/// server-side apply use (`TypeSchema.definition(of:)`), so every served kind has its keys.
/// Lists not named here are replaced by a patch.
enum StrategicMergeSchema {
    struct Rule: Sendable, Equatable {
        /// The field identifying elements; nil for merged lists of primitives.
        let mergeKey: String?
    }

    private static let cache = Mutex<[String: [String: Rule]]>([:])

    /// Every rule for objects of `kind` in `group` (built once per kind).
    static func rules(for kind: String, group: String = "") -> [String: Rule] {
        let message = TypeSchema.messageName(group: group, kind: kind)
        if let rules = cache.withLock({ $0[message] }) { return rules }
        var rules: [String: Rule] = [:]
        collect(message, prefix: "", depth: 0, into: &rules)
        cache.withLock { $0[message] = rules }
        return rules
    }

    /// Walks the struct fields (not map values, whose keys are not paths of the rules); the
    /// depth bound only guards against a recursive type.
    private static func collect(_ message: String, prefix: String, depth: Int, into rules: inout [String: Rule]) {
        guard depth < 16, let definition = TypeSchema.definition(of: message) else { return }
        for property in definition.properties where !property.map {
            let path = prefix.isEmpty ? property.name : prefix + "." + property.name
            if property.repeated, property.patchStrategy?.split(separator: ",").contains("merge") == true {
                rules[path] = Rule(mergeKey: property.isScalar ? nil : property.patchMergeKey)
            }
            if !property.isScalar, !TypeSchema.nativeMessages.contains(property.type) {
                collect(property.type, prefix: path, depth: depth + 1, into: &rules)
            }
        }
    }
}
