/// A field selector (`metadata.name=web,status.phase!=Failed`), parsed as
/// k8s.io/apimachinery/pkg/fields does: comma-separated `key=value`, `key==value` or
/// `key!=value` terms, with `\` escaping `,`, `=`, `!` and itself in values.
public struct FieldSelector: Sendable, Equatable, CustomStringConvertible {
    public struct Term: Sendable, Equatable {
        public let field: String
        public let value: String
        /// `!=` rather than `=`.
        public let negated: Bool

        public init(field: String, value: String, negated: Bool) {
            self.field = field
            self.value = value
            self.negated = negated
        }
    }

    public let terms: [Term]

    public init(terms: [Term]) {
        self.terms = terms
    }

    public static let everything = FieldSelector(terms: [])

    public var isEmpty: Bool { terms.isEmpty }

    public var description: String {
        terms.map { "\($0.field)\($0.negated ? "!=" : "=")\($0.value)" }.joined(separator: ",")
    }

    /// Whether `value(field)` satisfies every term; fields the object lacks read as "".
    public func matches(_ value: (String) -> String) -> Bool {
        terms.allSatisfy { term in (value(term.field) == term.value) != term.negated }
    }

    public init(parsing text: String) throws(APIError) {
        var terms: [Term] = []
        for part in Self.split(text, on: ",") where !part.isEmpty {
            let (field, value, negated): (String, String, Bool)
            if let range = Self.firstUnescaped(in: part, of: "!=") {
                (field, value, negated) = (String(part[..<range.lowerBound]), String(part[range.upperBound...]), true)
            } else if let range = Self.firstUnescaped(in: part, of: "==") {
                (field, value, negated) = (String(part[..<range.lowerBound]), String(part[range.upperBound...]), false)
            } else if let range = Self.firstUnescaped(in: part, of: "=") {
                (field, value, negated) = (String(part[..<range.lowerBound]), String(part[range.upperBound...]), false)
            } else {
                throw APIError.badRequest("invalid selector: '\(text)'; can't understand '\(part)'")
            }
            terms.append(Term(field: field.trimmingSpaces, value: Self.unescape(value), negated: negated))
        }
        self.init(terms: terms)
    }

    private static func split(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                current.append(character)
                escaped = true
            } else if character == separator {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }

    private static func firstUnescaped(in text: String, of token: String) -> Range<String.Index>? {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "\\" {
                index = text.index(after: index)
                if index < text.endIndex { index = text.index(after: index) }
                continue
            }
            if text[index...].hasPrefix(token) {
                return index..<text.index(index, offsetBy: token.count)
            }
            index = text.index(after: index)
        }
        return nil
    }

    private static func unescape(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped {
                out.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
