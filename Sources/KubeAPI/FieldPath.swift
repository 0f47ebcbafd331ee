/// Renders coding paths as Kubernetes field paths: `spec.containers[0].image`, with map keys
/// that are not plain identifiers in brackets (`metadata.labels[app.kubernetes.io/name]`).
public enum FieldPath {
    /// `path` followed by the field or map key `key`.
    public static func appending(_ key: String, to path: String) -> String {
        if isIdentifier(key) {
            return path.isEmpty ? key : path + "." + key
        }
        return path + "[" + key + "]"
    }

    /// `path` followed by the list index `index`.
    public static func appending(index: Int, to path: String) -> String {
        path + "[\(index)]"
    }

    /// Renders a whole coding path.
    static func render(_ codingPath: [any CodingKey]) -> String {
        codingPath.reduce(into: "") { path, key in
            if let index = key as? IndexKey {
                path = appending(index: index.index, to: path)
            } else {
                path = appending(key.stringValue, to: path)
            }
        }
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else {
            return false
        }
        return key.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }
    }
}

/// The coding key of a list element.
struct IndexKey: CodingKey {
    let index: Int
    var stringValue: String { "Index \(index)" }
    var intValue: Int? { index }

    init(_ index: Int) {
        self.index = index
    }

    init?(stringValue: String) {
        return nil
    }

    init?(intValue: Int) {
        self.index = intValue
    }
}

/// A string coding key, for `superDecoder()`.
struct NamedKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) {
        self.stringValue = name
    }

    init?(stringValue: String) {
        self.stringValue = stringValue
    }

    init?(intValue: Int) {
        return nil
    }
}
