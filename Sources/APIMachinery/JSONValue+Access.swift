import KubeAPI

/// Typed reads of `JSONValue` and nested writes, for code that works on objects as JSON
/// (the API server's stores and strategies, the controllers).
extension JSONValue {
    /// The members when this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The number when this is an integer (or an integral fraction).
    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9e18: return Int64(value)
        default: return nil
        }
    }

    /// The flag when this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// How a type is named in error messages.
    package var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Sets (or removes) a nested member, turning non-objects on the way into objects.
    package mutating func set(_ value: JSONValue?, at path: ArraySlice<String>) {
        guard let key = path.first else {
            if let value { self = value }
            return
        }
        var members = objectValue ?? [:]
        if path.count == 1 {
            members[key] = value
        } else {
            var child = members[key] ?? .object([:])
            child.set(value, at: path.dropFirst())
            members[key] = child
        }
        self = .object(members)
    }
}
