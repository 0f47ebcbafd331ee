extension ManifestNode {
    /// The node in JSON's data model, as kube-apiserver converts a YAML body to JSON
    /// (sigs.k8s.io/yaml) before decoding it: maps, lists, strings, booleans, null, and numbers
    /// that JSON can hold. `.inf` and `.nan` are refused with their field path: Go's
    /// json.Marshal fails on them (`json: unsupported value: +Inf`), and storing them would
    /// write text that is not JSON.
    func jsonValue(path: String = "") throws -> JSONValue {
        switch self {
        case .scalar(let scalar):
            switch scalar.kind {
            case .null: return .null
            case .bool(let flag): return .bool(flag)
            case .integer(let value?): return .int(value)
            case .integer(nil):
                // Beyond Int64 go-yaml gives a float64 (or uint64); JSON keeps the number.
                guard let value = Double(scalar.text.replacingOccurrences(of: "_", with: "")), value.isFinite else {
                    throw DecodingFailure(path: path, message: "number \(scalar.text) is out of range", line: scalar.line)
                }
                return .double(value)
            case .float(let value):
                guard value.isFinite else {
                    let shown = value.isNaN ? "NaN" : (value < 0 ? "-Inf" : "+Inf")
                    throw DecodingFailure(path: path, message: "\(scalar.text) is not a number JSON can represent (json: unsupported value: \(shown))",
                                          line: scalar.line)
                }
                return .double(value)
            case .string:
                return .string(scalar.text)
            }
        case .sequence(let elements, _):
            var values: [JSONValue] = []
            values.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                values.append(try element.jsonValue(path: FieldPath.appending(index: index, to: path)))
            }
            return .array(values)
        case .mapping(let entries, _):
            var members: [String: JSONValue] = [:]
            members.reserveCapacity(entries.count)
            for entry in entries {
                members[entry.key] = try entry.value.jsonValue(path: FieldPath.appending(entry.key, to: path))
            }
            return .object(members)
        }
    }
}
