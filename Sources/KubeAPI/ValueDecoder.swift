/// Bookkeeping shared by all decoders of one document: which keys each map was asked for,
/// so keys nobody asked for can be reported as unknown fields afterwards.
final class DecodingState {
    /// Field path of each map opened as a keyed container → the keys asked for.
    var askedKeys: [String: Set<String>] = [:]
    /// Paths of values whose type allows unknown fields.
    var lenientPaths: Set<String> = []

    /// The first key, in document order, that was present but never asked for.
    /// Synthesized `Decodable` asks for every property, so such a key is a field the type
    /// does not have (a typo, or a field of another API version).
    func firstUnknownField(in node: ManifestNode, path: String = "") -> DecodingFailure? {
        switch node {
        case .scalar:
            return nil
        case .sequence(let elements, _):
            for (index, element) in elements.enumerated() {
                if let failure = firstUnknownField(in: element, path: FieldPath.appending(index: index, to: path)) {
                    return failure
                }
            }
            return nil
        case .mapping(let entries, _):
            guard !lenientPaths.contains(path), let asked = askedKeys[path] else { return nil }
            for entry in entries {
                let childPath = FieldPath.appending(entry.key, to: path)
                guard asked.contains(entry.key) else {
                    return DecodingFailure(path: childPath, message: "unknown field \"\(childPath)\"", line: entry.line)
                }
                if let failure = firstUnknownField(in: entry.value, path: childPath) {
                    return failure
                }
            }
            return nil
        }
    }
}

/// A `Decoder` over a `ManifestNode` that is strict the way the Kubernetes API server is:
/// no numbers for strings or strings for numbers, integers within their type's range,
/// and every error carrying a field path.
struct ValueDecoder: Decoder {
    let node: ManifestNode
    let codingPath: [any CodingKey]
    /// `codingPath` rendered as a field path.
    let path: String
    let state: DecodingState

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: ManifestNode, codingPath: [any CodingKey] = [], path: String = "", state: DecodingState) {
        self.node = node
        self.codingPath = codingPath
        self.path = path
        self.state = state
    }

    func failure(_ message: String) -> DecodingFailure {
        DecodingFailure(path: path, message: message, line: node.line)
    }

    func mismatch(expected: String) -> DecodingFailure {
        failure("expected \(expected), got \(node.found)")
    }

    /// Decodes a value of any type here, giving errors from custom `init(from:)`s this path.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self is AllowsUnknownFields.Type {
            state.lenientPaths.insert(path)
        }
        if let textType = T.self as? ScalarTextDecodable.Type, case .scalar(let scalar) = node, scalar.isNumber {
            do {
                if let value = try textType.init(scalarText: scalar.text) as? T { return value }
            } catch {
                // Not a literal quantity (say `0x10`): fall through to the numeric value.
            }
        }
        do {
            return try T(from: self)
        } catch let failure as DecodingFailure {
            throw failure
        } catch let error as DecodingError {
            throw translate(error)
        } catch {
            throw failure(String(describing: error))
        }
    }

    /// Errors thrown by `init(from:)`s written for JSONDecoder, re-labelled with our path.
    private func translate(_ error: DecodingError) -> DecodingFailure {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return DecodingFailure(path: FieldPath.render(context.codingPath), message: context.debugDescription, line: node.line)
        case .keyNotFound(let key, let context):
            return DecodingFailure(path: FieldPath.render(context.codingPath + [key]), message: "Required value", line: node.line)
        @unknown default:
            return failure(String(describing: error))
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let entries, _) = node else {
            throw mismatch(expected: "a map")
        }
        if state.askedKeys[path] == nil {
            state.askedKeys[path] = []
        }
        return KeyedDecodingContainer(KeyedValueContainer<Key>(decoder: self, entries: entries))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let elements, _) = node else {
            throw mismatch(expected: "a list")
        }
        return UnkeyedValueContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        self
    }

    /// The decoder of a map entry or list element below this one.
    func child(_ node: ManifestNode, key: any CodingKey) -> ValueDecoder {
        let childPath: String
        if let index = key as? IndexKey {
            childPath = FieldPath.appending(index: index.index, to: path)
        } else {
            childPath = FieldPath.appending(key.stringValue, to: path)
        }
        return ValueDecoder(node: node, codingPath: codingPath + [key], path: childPath, state: state)
    }
}
