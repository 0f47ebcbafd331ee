import KubeAPI

/// Why a value cannot be written as JSON that this server reads back: a number JSON has no
/// spelling for (infinity, NaN), or nesting deeper than `JSONParser` accepts.
public struct JSONEncodingFailure: Error, CustomStringConvertible, Equatable, Sendable {
    /// The field path of the offending value (`data.l`, `spec.ports[0].port`); empty for the root.
    public let path: String
    public let message: String

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

extension JSONSerializer {
    /// The compact encoding of `value`, refusing what would not read back: non-finite numbers
    /// (Go's encoding/json fails the same way, `json: unsupported value: +Inf`) and nesting
    /// deeper than `maximumDepth` (what `JSONParser` accepts). Everything the API server
    /// stores goes through here, so a stored object can always be read again.
    public static func checkedSerialize(_ value: JSONValue, maximumDepth: Int = JSONParser.maximumDepth) throws(JSONEncodingFailure) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        var failure: CheckFailure?
        write(value, to: &out, depth: 0, maximumDepth: maximumDepth, failure: &failure)
        if let failure {
            let path = failure.segments.reversed().reduce(into: "") { path, segment in
                switch segment {
                case .key(let key): path = FieldPath.appending(key, to: path)
                case .index(let index): path = FieldPath.appending(index: index, to: path)
                }
            }
            throw JSONEncodingFailure(path: path, message: failure.message)
        }
        return out
    }

    /// What went wrong and where, the path innermost first.
    struct CheckFailure {
        enum Segment {
            case key(String)
            case index(Int)
        }

        var segments: [Segment]
        var message: String
    }
}
