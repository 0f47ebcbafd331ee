import KubeAPI

/// How server-side apply treats a value (structured-merge-diff's `schema.Atom` with its
/// element relationship): a leaf owned and replaced as a whole (scalars, and atomic
/// structs, maps and lists), a struct or map whose members are owned one by one, or a list
/// whose elements are (a set of scalars, or a list of objects keyed by some of their fields).
package indirect enum MergeShape: Sendable, Equatable {
    case leaf
    /// A struct: its fields' shapes come from the schema by message name.
    case structure(String)
    /// A map with string keys, every value of the same shape.
    case map(MergeShape)
    /// A list of scalars owned element by element (`x-kubernetes-list-type: set`).
    case set
    /// A list of objects owned element by element, identified by `keys`
    /// (`x-kubernetes-list-type: map`); `defaults` fill key fields an element leaves out
    /// (a container port's `protocol` is `TCP`).
    case keyedList(MergeShape, keys: [String], defaults: [String: JSONValue])
}

/// The shapes of the fields of each struct of the served types.
package protocol MergeSchema: Sendable {
    /// The fields of a struct by JSON name, nil when the struct is unknown. Fields not listed
    /// are treated as leaves.
    func fields(of structure: String) -> [String: MergeShape]?
}

extension MergeSchema {
    /// The shape of `name` in a struct: unknown fields are leaves.
    func shape(of name: String, in structure: String) -> MergeShape {
        fields(of: structure)?[name] ?? .leaf
    }

    /// The element for a list item: its key fields, or its value for a set.
    /// nil when an element of a keyed list lacks a key field without a default.
    func element(for item: JSONValue, in shape: MergeShape) -> FieldPathElement? {
        switch shape {
        case .set:
            return .value(item)
        case .keyedList(_, let keys, let defaults):
            guard case .object(let members) = item else { return nil }
            var fields: [String: JSONValue] = [:]
            for key in keys {
                guard let value = members[key] ?? defaults[key] else { return nil }
                fields[key] = value
            }
            return .key(fields)
        default:
            return nil
        }
    }

    /// The shape of the members of a struct or map, or of the elements of a list.
    func childShape(_ shape: MergeShape, field name: String) -> MergeShape {
        switch shape {
        case .structure(let structure): return self.shape(of: name, in: structure)
        case .map(let element): return element
        default: return .leaf
        }
    }
}
