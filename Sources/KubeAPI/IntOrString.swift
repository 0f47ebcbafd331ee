/// Kubernetes' `intstr.IntOrString`: a port number or a port name, a count or a percentage.
///
/// It is coded as a bare JSON number or string, and a quoted "80" stays a string, as in
/// Kubernetes (whose validation then reads it as a port *name*).
public enum IntOrString: Codable, Hashable, Sendable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case int(Int32)
    case string(String)

    public init(integerLiteral value: Int32) {
        self = .int(value)
    }

    public init(stringLiteral value: String) {
        self = .string(value)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            // Reports the real problem: not a number, or out of the int32 range.
            self = .int(try container.decode(Int32.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        }
    }

    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .string(let value): return value
        }
    }
}
