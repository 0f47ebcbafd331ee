extension ManifestNode {
    /// A node over a value already in JSON's data model (a request body the API server parsed),
    /// typed exactly as if the value had been written out as compact JSON and read back by the
    /// YAML reader: strings stay strings, integers are integers, and a fractional number that
    /// Go would write without a fraction (`2.0` is written `2`) reads back as an integer. The
    /// API server's strategies decode every object they default and validate; going through
    /// text and libyaml cost a quarter of a pod create (docs/benchmarks.md).
    ///
    /// Object members come in the order `JSONSerializer` writes them (`apiVersion`, `kind`,
    /// `metadata`, then by name), so the first unknown field reported is the same one.
    init(json value: JSONValue) {
        switch value {
        case .null:
            self = .scalar(ManifestScalar(text: "null", kind: .null))
        case .bool(let flag):
            self = .scalar(ManifestScalar(text: flag ? "true" : "false", kind: .bool(flag)))
        case .int(let number):
            self = .scalar(ManifestScalar(text: String(number), kind: .integer(number)))
        case .double(let number):
            self = .scalar(Self.scalar(double: number))
        case .string(let text):
            self = .scalar(ManifestScalar(text: text, kind: .string, isPlain: false))
        case .array(let elements):
            self = .sequence(elements.map { ManifestNode(json: $0) }, line: nil)
        case .object(let members):
            self = .mapping(JSONValue.orderedKeys(members).map { ManifestEntry(key: $0, line: nil, value: ManifestNode(json: members[$0] ?? .null)) }, line: nil)
        }
    }

    /// A double typed as the YAML reader types Go's rendering of it: `2.0` is written `2` and
    /// reads back as an integer, `1e+21` as a float.
    private static func scalar(double number: Double) -> ManifestScalar {
        ManifestScalar(text: GoFloat.format(number), plain: true, forcedString: false, line: nil)
    }
}

extension ManifestScalar {
    /// A scalar whose type is already known (from a parsed JSON value).
    init(text: String, kind: Kind, isPlain: Bool = true) {
        self.text = text
        self.kind = kind
        self.line = nil
        self.isPlain = isPlain
    }
}
