import KubeAPI

/// One step of a path into an object, as server-side apply names fields
/// (sigs.k8s.io/structured-merge-diff `fieldpath.PathElement`): a struct field or map key,
/// the key fields of an element of an associative list, the value of an element of a set, or
/// the index of an element of a list without keys.
package enum FieldPathElement: Hashable, Sendable, Comparable, CustomStringConvertible {
    case field(String)
    /// The element's key fields, sorted by name.
    case key([KeyField])
    case value(JSONValue)
    case index(Int)

    package struct KeyField: Hashable, Sendable {
        package let name: String
        package let value: JSONValue

        package init(name: String, value: JSONValue) {
            self.name = name
            self.value = value
        }
    }

    /// A key element from key fields in any order.
    package static func key(_ fields: [String: JSONValue]) -> FieldPathElement {
        .key(fields.sorted { $0.key < $1.key }.map { KeyField(name: $0.key, value: $0.value) })
    }

    // MARK: - Order

    /// Upstream's order (`PathElement.Compare`): fields, then keys, then values, then indexes;
    /// managedFields are written in this order.
    package static func < (lhs: FieldPathElement, rhs: FieldPathElement) -> Bool {
        switch (lhs, rhs) {
        case (.field(let left), .field(let right)): return left < right
        case (.key(let left), .key(let right)):
            for (l, r) in zip(left, right) {
                if l.name != r.name { return l.name < r.name }
                let order = Self.compare(l.value, r.value)
                if order != 0 { return order < 0 }
            }
            return left.count < right.count
        case (.value(let left), .value(let right)): return compare(left, right) < 0
        case (.index(let left), .index(let right)): return left < right
        default: return lhs.rank < rhs.rank
        }
    }

    private var rank: Int {
        switch self {
        case .field: return 0
        case .key: return 1
        case .value: return 2
        case .index: return 3
        }
    }

    /// A total order of JSON values (`value.Compare`): null, then numbers, strings, booleans,
    /// lists, maps; within a type by value.
    static func compare(_ lhs: JSONValue, _ rhs: JSONValue) -> Int {
        func typeRank(_ value: JSONValue) -> Int {
            switch value {
            case .null: return 0
            case .int, .double: return 1
            case .string: return 2
            case .bool: return 3
            case .array: return 4
            case .object: return 5
            }
        }
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): return sign(a, b)
        case (.int(let a), .double(let b)): return sign(Double(a), b)
        case (.double(let a), .int(let b)): return sign(a, Double(b))
        case (.double(let a), .double(let b)): return sign(a, b)
        case (.string(let a), .string(let b)): return sign(a, b)
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (a ? 1 : -1)
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) {
                let order = compare(x, y)
                if order != 0 { return order }
            }
            return sign(a.count, b.count)
        case (.object(let a), .object(let b)):
            let left = a.sorted { $0.key < $1.key }, right = b.sorted { $0.key < $1.key }
            for (x, y) in zip(left, right) {
                if x.key != y.key { return sign(x.key, y.key) }
                let order = compare(x.value, y.value)
                if order != 0 { return order }
            }
            return sign(left.count, right.count)
        default: return sign(typeRank(lhs), typeRank(rhs))
        }
    }

    // MARK: - Text

    /// How a conflict names the element (`PathElement.String`): `.image`,
    /// `[name="nginx"]`, `[="a"]`, `[3]`.
    package var description: String {
        switch self {
        case .field(let name): return "." + name
        case .key(let fields): return "[" + fields.map { "\($0.name)=\(Self.text($0.value))" }.joined(separator: ",") + "]"
        case .value(let value): return "[=\(Self.text(value))]"
        case .index(let index): return "[\(index)]"
        }
    }

    /// `value.ToString`: strings quoted, numbers and booleans bare.
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .string(let text): return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .array(let elements): return "[" + elements.map(text).joined(separator: ",") + "]"
        case .object(let members): return members.sorted { $0.key < $1.key }.map { "\($0.key)=\(text($0.value))" }.joined()
        }
    }

    /// The key of this element in `fieldsV1` (`f:name`, `k:{"name":"nginx"}`, `v:"a"`, `i:3`).
    package var serialized: String {
        switch self {
        case .field(let name): return "f:" + name
        case .key(let fields):
            var out: [UInt8] = Array("k:{".utf8)
            for (position, field) in fields.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                JSONSerializer.writeString(field.name, to: &out)
                out.append(UInt8(ascii: ":"))
                JSONSerializer.write(field.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
            return String(decoding: out, as: UTF8.self)
        case .value(let value): return "v:" + String(decoding: JSONSerializer.serialize(value), as: UTF8.self)
        case .index(let index): return "i:\(index)"
        }
    }

    /// Reads a `fieldsV1` key. Unknown element types are nil (upstream drops them: a newer
    /// server may know them); malformed known ones throw.
    package init?(serialized text: String) throws(FieldsV1Error) {
        guard text.count >= 2 else { throw FieldsV1Error("key must be 2 characters long: \(text)") }
        let body = String(text.dropFirst(2))
        let type = text.prefix(2)
        switch type {
        case "f:": self = .field(body)
        case "v:":
            guard let value = try? JSONParser.parse(Array(body.utf8)) else { throw FieldsV1Error("invalid value element: \(text)") }
            self = .value(value)
        case "k:":
            guard case .object(let fields)? = try? JSONParser.parse(Array(body.utf8)) else {
                throw FieldsV1Error("invalid key element: \(text)")
            }
            self = .key(fields)
        case "i:":
            guard let index = Int(body) else { throw FieldsV1Error("invalid index element: \(text)") }
            self = .index(index)
        default:
            guard text.dropFirst().first == ":" else { throw FieldsV1Error("missing colon: \(text)") }
            return nil
        }
    }
}

/// Paths from an object's root (`fieldpath.Path`) are `[FieldPathElement]`; their text is the elements' joined.


extension Array where Element == FieldPathElement {
    /// `.spec.template.spec.containers[name="nginx"].image`.
    package var pathDescription: String { map(\.description).joined() }
}

/// A `fieldsV1` value that cannot be read.
package struct FieldsV1Error: Error, CustomStringConvertible, Sendable {
    package let description: String
    init(_ description: String) { self.description = description }
}
