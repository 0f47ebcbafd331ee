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
        writeChecked(value, to: &out, depth: 0, maximumDepth: maximumDepth, failure: &failure)
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

    /// Writes `value`; on a problem fills `failure` (its path collected innermost first while
    /// the recursion unwinds) and stops.
    private static func writeChecked(_ value: JSONValue, to out: inout [UInt8], depth: Int, maximumDepth: Int,
                                     failure: inout CheckFailure?) {
        switch value {
        case .double(let number) where !number.isFinite:
            let shown = number.isNaN ? "NaN" : (number < 0 ? "-Inf" : "+Inf")
            failure = CheckFailure(segments: [], message: "\(shown) is not a number JSON can represent (json: unsupported value: \(shown))")
        case .array(let elements):
            guard depth < maximumDepth else {
                failure = CheckFailure(segments: [], message: "nested deeper than \(maximumDepth) levels")
                return
            }
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                writeChecked(element, to: &out, depth: depth + 1, maximumDepth: maximumDepth, failure: &failure)
                if failure != nil {
                    failure?.segments.append(.index(position))
                    return
                }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            guard depth < maximumDepth else {
                failure = CheckFailure(segments: [], message: "nested deeper than \(maximumDepth) levels")
                return
            }
            out.append(UInt8(ascii: "{"))
            for (position, key) in orderedKeys(members).enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if let member = members[key] {
                    writeChecked(member, to: &out, depth: depth + 1, maximumDepth: maximumDepth, failure: &failure)
                    if failure != nil {
                        failure?.segments.append(.key(key))
                        return
                    }
                }
            }
            out.append(UInt8(ascii: "}"))
        default:
            write(value, to: &out)
        }
    }

    /// What went wrong and where, the path innermost first.
    private struct CheckFailure {
        enum Segment {
            case key(String)
            case index(Int)
        }

        var segments: [Segment]
        var message: String
    }
}
