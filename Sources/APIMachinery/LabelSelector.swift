import KubeAPI

/// A label selector in Kubernetes' string syntax (`app=web,tier!=db,env in (a,b),!canary`)
/// or built from a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`).
/// Semantics follow k8s.io/apimachinery/pkg/labels: `!=` and `notin` also match objects
/// without the label.
public struct LabelSelector: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable {
        case equals = "="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    public struct Requirement: Sendable, Equatable {
        public let key: String
        public let op: Operator
        /// Sorted values.
        public let values: [String]

        func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .equals, .in: return value.map { values.contains($0) } ?? false
            case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let value, let number = Int64(value), let bound = values.first.flatMap({ Int64($0) }) else { return false }
                return op == .greaterThan ? number > bound : number < bound
            }
        }

        var rendered: String {
            switch op {
            case .equals: return "\(key)=\(values.first ?? "")"
            case .notEquals: return "\(key)!=\(values.first ?? "")"
            case .in: return "\(key) in (\(values.joined(separator: ",")))"
            case .notIn: return "\(key) notin (\(values.joined(separator: ",")))"
            case .exists: return key
            case .doesNotExist: return "!\(key)"
            case .greaterThan: return "\(key)>\(values.first ?? "")"
            case .lessThan: return "\(key)<\(values.first ?? "")"
            }
        }
    }

    /// Requirements sorted by key; all must match. Empty matches everything.
    public let requirements: [Requirement]

    public init(requirements: [Requirement]) {
        self.requirements = requirements.sorted { $0.key < $1.key }
    }

    /// `labels.SelectorFromSet`: every label of `set` with its value (a ReplicationController's
    /// or a Service's selector); an empty set matches everything.
    public init(set: [String: String]) {
        self.init(requirements: set.map { Requirement(key: $0.key, op: .equals, values: [$0.value]) })
    }

    /// The selector matching everything.
    public static let everything = LabelSelector(requirements: [])

    public var isEmpty: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// The canonical string form (`labels.Selector.String()`).
    public var description: String {
        requirements.map(\.rendered).joined(separator: ",")
    }

    // MARK: - Parsing the string syntax

    /// Parses `labelSelector=` query values; errors are BadRequest-worthy messages.
    public init(parsing text: String) throws(APIError) {
        var scanner = SelectorScanner(text)
        var requirements: [Requirement] = []
        scanner.skipSpaces()
        if scanner.atEnd {
            self.init(requirements: [])
            return
        }
        while true {
            requirements.append(try Self.parseRequirement(&scanner, text: text))
            scanner.skipSpaces()
            if scanner.atEnd { break }
            guard scanner.consume(",") else {
                throw APIError.badRequest("unable to parse requirement: found '\(scanner.rest)', expected: ','")
            }
            scanner.skipSpaces()
        }
        self.init(requirements: requirements)
    }

    private static func parseRequirement(_ scanner: inout SelectorScanner, text: String) throws(APIError) -> Requirement {
        scanner.skipSpaces()
        if scanner.consume("!") {
            scanner.skipSpaces()
            let key = scanner.word()
            try validateKey(key)
            return Requirement(key: key, op: .doesNotExist, values: [])
        }
        let key = scanner.word()
        guard !key.isEmpty else {
            throw APIError.badRequest("unable to parse requirement: found '\(scanner.rest)', expected: identifier")
        }
        try validateKey(key)
        scanner.skipSpaces()
        if scanner.atEnd || scanner.peek(",") {
            return Requirement(key: key, op: .exists, values: [])
        }
        let op: Operator
        if scanner.consume("==") || scanner.consume("=") {
            op = .equals
        } else if scanner.consume("!=") {
            op = .notEquals
        } else if scanner.consume(">") {
            op = .greaterThan
        } else if scanner.consume("<") {
            op = .lessThan
        } else {
            let word = scanner.word()
            switch word {
            case "in": op = .in
            case "notin": op = .notIn
            default:
                throw APIError.badRequest("unable to parse requirement: found '\(word)', expected: in, notin, =, ==, !=, gt, lt")
            }
        }
        scanner.skipSpaces()
        var values: [String] = []
        if op == .in || op == .notIn {
            guard scanner.consume("(") else {
                throw APIError.badRequest("unable to parse requirement: found '\(scanner.rest)', expected: '('")
            }
            while true {
                scanner.skipSpaces()
                if scanner.consume(")") { break }
                values.append(scanner.word())
                scanner.skipSpaces()
                if scanner.consume(",") { continue }
                guard scanner.consume(")") else {
                    throw APIError.badRequest("unable to parse requirement: found '\(scanner.rest)', expected: ',', ')'")
                }
                break
            }
            if values.isEmpty {
                throw APIError.badRequest("unable to parse requirement: values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty")
            }
        } else {
            values = [scanner.word()]
            if op == .greaterThan || op == .lessThan, Int64(values[0]) == nil {
                throw APIError.badRequest("unable to parse requirement: values[0]: Invalid value: \(ObjectValidation.quote(values[0])): for 'Gt', 'Lt' operators, the value must be an integer")
            }
        }
        for value in values where op != .greaterThan && op != .lessThan {
            let problems = ObjectValidation.validateLabels(["x": value], path: "values")
            if let problem = problems.first {
                throw APIError.badRequest("unable to parse requirement: \(problem)")
            }
        }
        return Requirement(key: key, op: op, values: Array(Set(values)).sorted())
    }

    private static func validateKey(_ key: String) throws(APIError) {
        let problems = ObjectValidation.validateLabels([key: ""], path: "key")
        if let problem = problems.first {
            throw APIError.badRequest("unable to parse requirement: \(problem)")
        }
    }

    // MARK: - From a LabelSelector object

    /// `metav1.LabelSelectorAsSelector`: nil (no selector) matches nothing, `{}` everything.
    public init(object: JSONValue) throws(APIError) {
        var requirements: [Requirement] = []
        for (key, value) in object["matchLabels"]?.objectValue ?? [:] {
            requirements.append(Requirement(key: key, op: .equals, values: [value.stringValue ?? ""]))
        }
        for expression in object["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            let op: Operator
            switch expression["operator"]?.stringValue ?? "" {
            case "In": op = .in
            case "NotIn": op = .notIn
            case "Exists": op = .exists
            case "DoesNotExist": op = .doesNotExist
            case let other: throw APIError.badRequest("\(ObjectValidation.quote(other)) is not a valid label selector operator")
            }
            requirements.append(Requirement(key: key, op: op, values: Array(Set(values)).sorted()))
        }
        self.init(requirements: requirements)
    }
}
