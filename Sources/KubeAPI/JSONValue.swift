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
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
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
