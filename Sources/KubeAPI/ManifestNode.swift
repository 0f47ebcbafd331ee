/// A parsed YAML or JSON document reduced to Kubernetes' JSON data model: maps with string
/// keys in document order, lists, and scalars typed the way the API server sees them.
indirect enum ManifestNode {
    case scalar(ManifestScalar)
    case sequence([ManifestNode], line: Int?)
    case mapping([ManifestEntry], line: Int?)

    var line: Int? {
        switch self {
        case .scalar(let scalar): return scalar.line
        case .sequence(_, let line), .mapping(_, let line): return line
        }
    }

    var isNull: Bool {
        if case .scalar(let scalar) = self, case .null = scalar.kind { return true }
        return false
    }

    /// How the node is named in "expected ..., got <found>" messages.
    var found: String {
        switch self {
        case .scalar(let scalar): return scalar.found
        case .sequence: return "a list"
        case .mapping: return "a map"
        }
    }
}

/// One key of a mapping, with the line it is on.
struct ManifestEntry {
    let key: String
    let line: Int?
    let value: ManifestNode
}

/// A scalar and the JSON type Kubernetes gives it.
struct ManifestScalar {
    enum Kind {
        case null
        case bool(Bool)
        /// An integer; nil when it does not fit in Int64.
        case integer(Int64?)
        case float(Double)
        case string
    }

    /// The text as written (unquoted).
    let text: String
    let kind: Kind
    let line: Int?
    /// Whether the scalar was plain (unquoted); YAML 1.1 booleans like `yes` only count then.
    let isPlain: Bool

    var isNumber: Bool {
        switch kind {
        case .integer, .float: return true
        default: return false
        }
    }

    var found: String {
        switch kind {
        case .null: return "null"
        case .bool(let value): return "bool \(value)"
        case .integer, .float: return "number \(text)"
        case .string:
            let shown = text.count > 64 ? String(text.prefix(61)) + "..." : text
            return "string \(GoQuote.quote(shown))"
        }
    }

    /// Classifies a scalar: quoted and block scalars are strings; plain ones are null, bool,
    /// integer or float when they look like one (YAML 1.1 integers as sigs.k8s.io/yaml reads
    /// them, so `defaultMode: 0644` is octal 420), else strings.
    init(text: String, plain: Bool, forcedString: Bool, line: Int?) {
        self.text = text
        self.line = line
        self.isPlain = plain
        guard plain, !forcedString else {
            self.kind = .string
            return
        }
        self.kind = ManifestScalar.classify(text)
    }

    private static func classify(_ text: String) -> Kind {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        if let integer = integerKind(text) { return integer }
        if isFloat(text), let value = Double(text.replacingOccurrences(of: "_", with: "")) {
            return .float(value)
        }
        return .string
    }

    /// Go's `strconv.ParseInt(s, 0, 64)` after removing underscores, as go-yaml v2 does:
    /// decimal, 0x hex, 0o or leading-0 octal, 0b binary, with an optional sign.
    private static func integerKind(_ text: String) -> Kind? {
        var digits = Substring(text.replacingOccurrences(of: "_", with: ""))
        var negative = false
        if let first = digits.first, first == "-" || first == "+" {
            negative = first == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var radix = 10
        let lower = digits.lowercased()
        if lower.hasPrefix("0x") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if lower.hasPrefix("0o") {
            radix = 8
            digits = digits.dropFirst(2)
        } else if lower.hasPrefix("0b") {
            radix = 2
            digits = digits.dropFirst(2)
        } else if digits.count > 1, digits.first == "0" {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.hexDigitValue.map { $0 < radix } ?? false }) else {
            return nil
        }
        guard let magnitude = UInt64(digits, radix: radix) else { return .integer(nil) }
        if negative {
            return .integer(magnitude <= Int64.min.magnitude ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil)
        }
        return .integer(magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil)
    }

    /// go-yaml's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
    private static func isFloat(_ text: String) -> Bool {
        var bytes = Array(text.utf8.filter { $0 != UInt8(ascii: "_") })[...]
        func digitRun() -> Int {
            var count = 0
            while let byte = bytes.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                bytes = bytes.dropFirst()
                count += 1
            }
            return count
        }
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        let integerDigits = digitRun()
        var fractionDigits = 0
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            fractionDigits = digitRun()
        }
        guard integerDigits > 0 || fractionDigits > 0 else { return false }
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
            guard digitRun() > 0 else { return false }
        }
        return bytes.isEmpty
    }
}
