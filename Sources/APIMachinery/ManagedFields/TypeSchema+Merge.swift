import KubeAPI

extension TypeSchema {
    /// How server-side apply treats the built-in types, from their definitions' markers.
    package static let mergeSchema: any MergeSchema = BuiltInMergeSchema()
}

/// `MergeSchema` over `TypeSchema`'s definitions, as kube-openapi's `schemaconv` turns the
/// OpenAPI schemas into structured-merge-diff's: scalars and the natively decoded types
/// (times, quantities, int-or-strings, raw JSON) are leaves; messages are granular structs
/// unless `+structType=atomic`, maps granular unless `+mapType=atomic`; lists as `+listType`
/// says (`map` keyed by its `+listMapKey`s, `set`, `atomic`) or, without one, keyed by their
/// `+patchMergeKey` under `+patchStrategy=merge`, a set when they hold scalars, else atomic.
struct BuiltInMergeSchema: MergeSchema {
    let shapes: [String: [String: MergeShape]]

    init() {
        var shapes: [String: [String: MergeShape]] = [:]
        for (name, definition) in TypeSchema.definitions {
            var members: [String: MergeShape] = [:]
            for property in definition.properties {
                members[property.name] = Self.shape(of: property)
            }
            shapes[name] = members
        }
        self.shapes = shapes
    }

    func fields(of structure: String) -> [String: MergeShape]? {
        shapes[structure]
    }

    static func shape(of property: TypeSchema.Property) -> MergeShape {
        if property.map {
            return property.mapType == "atomic" ? .leaf : .map(elementShape(property.type))
        }
        let element = elementShape(property.type)
        guard property.repeated else { return element }
        switch property.listType {
        case "map"?:
            return .keyedList(element, keys: property.listMapKeys, defaults: keyDefaults(element))
        case "set"?:
            return .set
        case "atomic"?:
            return .leaf
        default:
            guard property.patchStrategy?.split(separator: ",").contains("merge") == true else { return .leaf }
            if case .structure = element, let key = property.patchMergeKey {
                return .keyedList(element, keys: [key], defaults: keyDefaults(element))
            }
            return element == .leaf && property.isScalar ? .set : .leaf
        }
    }

    static func elementShape(_ type: String) -> MergeShape {
        if TypeSchema.scalarTypes.contains(type) || TypeSchema.nativeMessages.contains(type) { return .leaf }
        guard let definition = TypeSchema.definition(of: type), definition.arrayOf == nil, definition.mapType != "atomic" else {
            return .leaf
        }
        return .structure(type)
    }

    /// Key fields' defaults (`+default=` on the field: a port's protocol is TCP).
    static func keyDefaults(_ element: MergeShape) -> [String: JSONValue] {
        guard case .structure(let message) = element, let definition = TypeSchema.definition(of: message) else { return [:] }
        var defaults: [String: JSONValue] = [:]
        for property in definition.properties {
            if let value = property.defaultValue { defaults[property.name] = value }
        }
        return defaults
    }
}
