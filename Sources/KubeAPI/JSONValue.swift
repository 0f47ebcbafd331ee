/// Any JSON value, for the parts of the Kubernetes API this module keeps opaque
/// (`affinity`, `topologySpreadConstraints`, `seLinuxOptions`, ...).
///
/// Integers and fractional numbers are kept apart so that `maxSkew: 1` encodes back as `1`.
public enum JSONValue: Codable, Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        // An object first, through a keyed container. A Decoder has no way to say what type a
        // value is: it is found by failing to decode it as other types, and Foundation's
        // JSONDecoder builds an error with the coding path for each failure. Objects are most
        // of what arrives here (managedFields' fieldsV1, affinity, projected sources), and
        // tried last they cost five failures each (with 100 pods starting under `swiftlet
        // server`, 12% of its CPU went to JSONValues of its agent's pod watch). Scalars keep
        // their order: a YAML decoder reads any scalar as a String, so String still comes after
        // Bool and the numbers.
        if let object = try? decoder.container(keyedBy: NamedKey.self) {
            var members: [String: JSONValue] = [:]
            let keys = object.allKeys
            members.reserveCapacity(keys.count)
            for key in keys {
                members[key.stringValue] = try object.decode(JSONValue.self, forKey: key)
            }
            self = .object(members)
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            self = .array(try container.decode([JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member named `key` when this is an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string when this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}

extension JSONValue: NullDecodable {}

extension JSONValue {
    /// An object's keys in the order this project writes plain JSON: `apiVersion`, `kind`,
    /// `metadata` first (as the Kubernetes API server writes them, which makes raw output
    /// readable), then the rest sorted. Stable, so stored bytes compare and decoding reports
    /// the same first unknown field whichever path a value took.
    public static func orderedKeys(_ members: [String: JSONValue]) -> [String] {
        members.keys.sorted { lhs, rhs in
            let left = rank(lhs), right = rank(rhs)
            return left != right ? left < right : lhs < rhs
        }
    }

    private static func rank(_ key: String) -> Int {
        switch key {
        case "apiVersion": return 0
        case "kind": return 1
        case "metadata": return 2
        default: return 3
        }
    }
}
