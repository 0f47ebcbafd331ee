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
        try check(value, maximumDepth: maximumDepth)
        return serialize(value)
    }

    /// `checkedSerialize` in kube-apiserver's member order (`serializeInTypeOrder`): how the
    /// API server stores objects, so that reads can serve the stored bytes as they are.
    public static func checkedSerializeInTypeOrder(_ value: JSONValue, maximumDepth: Int = JSONParser.maximumDepth) throws(JSONEncodingFailure) -> [UInt8] {
        try check(value, maximumDepth: maximumDepth)
        return serializeInTypeOrder(value)
    }

    /// Throws when `value` has a non-finite number or nests deeper than `maximumDepth`; the
    /// failure names the field path of the first such value.
    public static func check(_ value: JSONValue, maximumDepth: Int = JSONParser.maximumDepth) throws(JSONEncodingFailure) {
        var failure: CheckFailure?
        check(value, depth: 0, maximumDepth: maximumDepth, sorted: false, failure: &failure)
        guard failure != nil else { return }
        // Walked again in output order, so that of several offenders the first one written is named.
        failure = nil
        check(value, depth: 0, maximumDepth: maximumDepth, sorted: true, failure: &failure)
        guard let failure else { return }
        let path = failure.segments.reversed().reduce(into: "") { path, segment in
            switch segment {
            case .key(let key): path = FieldPath.appending(key, to: path)
            case .index(let index): path = FieldPath.appending(index: index, to: path)
            }
        }
        throw JSONEncodingFailure(path: path, message: failure.message)
    }

    /// The walk behind `check`: stops at the first offending value, its path collected
    /// innermost first while the recursion unwinds.
    private static func check(_ value: JSONValue, depth: Int, maximumDepth: Int, sorted: Bool, failure: inout CheckFailure?) {
        switch value {
        case .double(let number) where !number.isFinite:
            failure = CheckFailure(segments: [], message: unsupportedNumber(number))
        case .array(let elements):
            guard depth < maximumDepth else {
                failure = CheckFailure(segments: [], message: "nested deeper than \(maximumDepth) levels")
                return
            }
            for (position, element) in elements.enumerated() {
                check(element, depth: depth + 1, maximumDepth: maximumDepth, sorted: sorted, failure: &failure)
                if failure != nil {
                    failure?.segments.append(.index(position))
                    return
                }
            }
        case .object(let members):
            guard depth < maximumDepth else {
                failure = CheckFailure(segments: [], message: "nested deeper than \(maximumDepth) levels")
                return
            }
            func failed(_ key: String, _ member: JSONValue) -> Bool {
                check(member, depth: depth + 1, maximumDepth: maximumDepth, sorted: sorted, failure: &failure)
                failure?.segments.append(.key(key))
                return failure != nil
            }
            if sorted {
                for key in JSONValue.orderedKeys(members) where failed(key, members[key] ?? .null) { return }
            } else {
                for (key, member) in members where failed(key, member) { return }
            }
        default:
            return
        }
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
