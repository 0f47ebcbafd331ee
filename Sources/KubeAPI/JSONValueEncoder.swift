/// Encodes an `Encodable` value straight into `JSONValue`, the form the API server works on:
/// the same members `JSONEncoder` writes (nil optionals left out by the synthesized code, an
/// explicit nil as `null`), without writing text and parsing it back. The API server's
/// strategies encode every object they default (a pod on each create and update); the text
/// round trip through Foundation's encoder and the parser was about 7% of a pod create.
///
/// Numbers keep their kind: integers as `.int`, floating point as `.double` (Go writes an
/// integral double without a fraction, so either serializes the same); unsigned values beyond
/// Int64 become doubles, as the parser would have read their text.
public struct JSONValueEncoder {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let encoder = NodeEncoder(codingPath: [])
        try value.encode(to: encoder)
        return encoder.node?.value ?? .object([:])
    }
}

/// A value being built: containers are references so nested containers can fill them later.
private enum EncodedNode {
    case value(JSONValue)
    case object(ObjectBox)
    case array(ArrayBox)

    var value: JSONValue {
        switch self {
        case .value(let value): return value
        case .object(let box): return .object(box.members.mapValues(\.value))
        case .array(let box): return .array(box.elements.map(\.value))
        }
    }
}

private final class ObjectBox {
    var members: [String: EncodedNode] = [:]
}

private final class ArrayBox {
    var elements: [EncodedNode] = []
}

private final class NodeEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: EncodedNode?

    init(codingPath: [any CodingKey]) {
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedContainer<Key>(box: objectBox(), codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedContainer(box: arrayBox(), codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(encoder: self)
    }

    /// The object this encoder fills (asking twice gives the same one, as JSONEncoder allows).
    func objectBox() -> ObjectBox {
        if case .object(let box)? = node { return box }
        let box = ObjectBox()
        node = .object(box)
        return box
    }

    func arrayBox() -> ArrayBox {
        if case .array(let box)? = node { return box }
        let box = ArrayBox()
        node = .array(box)
        return box
    }

    /// The node of one nested value: scalars directly, everything else through its own encoder.
    static func node<T: Encodable>(of value: T, codingPath: [any CodingKey]) throws -> EncodedNode {
        switch value {
        case let json as JSONValue: return .value(json)
        case let text as String: return .value(.string(text))
        case let flag as Bool: return .value(.bool(flag))
        case let number as Int: return .value(.int(Int64(number)))
        case let number as Int32: return .value(.int(Int64(number)))
        case let number as Int64: return .value(.int(number))
        case let number as Double: return .value(.double(number))
        default:
            let encoder = NodeEncoder(codingPath: codingPath)
            try value.encode(to: encoder)
            return encoder.node ?? .object(ObjectBox())
        }
    }

    static func unsigned(_ number: UInt64) -> JSONValue {
        number <= UInt64(Int64.max) ? .int(Int64(number)) : .double(Double(number))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: ObjectBox
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { box.members[key.stringValue] = .value(.null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { box.members[key.stringValue] = .value(.bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { box.members[key.stringValue] = .value(.string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { box.members[key.stringValue] = .value(.double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { box.members[key.stringValue] = .value(.double(Double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { box.members[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { box.members[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { box.members[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { box.members[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { box.members[key.stringValue] = .value(.int(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { box.members[key.stringValue] = .value(NodeEncoder.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { box.members[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { box.members[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { box.members[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { box.members[key.stringValue] = .value(NodeEncoder.unsigned(value)) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        box.members[key.stringValue] = try NodeEncoder.node(of: value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        box.members[key.stringValue] = .object(nested)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        box.members[key.stringValue] = .array(nested)
        return UnkeyedContainer(box: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(named: key.stringValue)
    }

    /// An encoder for the member `name`, as an object (no KubeAPI type encodes through a super
    /// encoder; a class hierarchy that encoded a single value there would get an object).
    private func superEncoder(named name: String) -> any Encoder {
        let encoder = NodeEncoder(codingPath: codingPath)
        let nested = encoder.objectBox()
        box.members[name] = .object(nested)
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let box: ArrayBox
    let codingPath: [any CodingKey]
    var count: Int { box.elements.count }

    mutating func encodeNil() throws { box.elements.append(.value(.null)) }
    mutating func encode(_ value: Bool) throws { box.elements.append(.value(.bool(value))) }
    mutating func encode(_ value: String) throws { box.elements.append(.value(.string(value))) }
    mutating func encode(_ value: Double) throws { box.elements.append(.value(.double(value))) }
    mutating func encode(_ value: Float) throws { box.elements.append(.value(.double(Double(value)))) }
    mutating func encode(_ value: Int) throws { box.elements.append(.value(.int(Int64(value)))) }
    mutating func encode(_ value: Int8) throws { box.elements.append(.value(.int(Int64(value)))) }
    mutating func encode(_ value: Int16) throws { box.elements.append(.value(.int(Int64(value)))) }
    mutating func encode(_ value: Int32) throws { box.elements.append(.value(.int(Int64(value)))) }
    mutating func encode(_ value: Int64) throws { box.elements.append(.value(.int(value))) }
    mutating func encode(_ value: UInt) throws { box.elements.append(.value(NodeEncoder.unsigned(UInt64(value)))) }
    mutating func encode(_ value: UInt8) throws { box.elements.append(.value(.int(Int64(value)))) }
    mutating func encode(_ value: UInt16) throws { box.elements.append(.value(.int(Int64(value)))) }
    mutating func encode(_ value: UInt32) throws { box.elements.append(.value(.int(Int64(value)))) }
    mutating func encode(_ value: UInt64) throws { box.elements.append(.value(NodeEncoder.unsigned(value))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        box.elements.append(try NodeEncoder.node(of: value, codingPath: codingPath + [IndexKey(box.elements.count)]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        box.elements.append(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested, codingPath: codingPath + [IndexKey(box.elements.count - 1)]))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        box.elements.append(.array(nested))
        return UnkeyedContainer(box: nested, codingPath: codingPath + [IndexKey(box.elements.count - 1)])
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = NodeEncoder(codingPath: codingPath)
        box.elements.append(.object(encoder.objectBox()))
        return encoder
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let encoder: NodeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.node = .value(.null) }
    mutating func encode(_ value: Bool) throws { encoder.node = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { encoder.node = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { encoder.node = .value(.double(value)) }
    mutating func encode(_ value: Float) throws { encoder.node = .value(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { encoder.node = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { encoder.node = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { encoder.node = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { encoder.node = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { encoder.node = .value(.int(value)) }
    mutating func encode(_ value: UInt) throws { encoder.node = .value(NodeEncoder.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { encoder.node = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { encoder.node = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { encoder.node = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { encoder.node = .value(NodeEncoder.unsigned(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.node = try NodeEncoder.node(of: value, codingPath: encoder.codingPath)
    }
}
