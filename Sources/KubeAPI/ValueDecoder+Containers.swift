/// A map seen as a struct or dictionary; records every key asked for (see `DecodingState`).
struct KeyedValueContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: ValueDecoder
    let entries: [ManifestEntry]
    private let positions: [String: Int]

    init(decoder: ValueDecoder, entries: [ManifestEntry]) {
        self.decoder = decoder
        self.entries = entries
        var positions: [String: Int] = [:]
        for (index, entry) in entries.enumerated() where positions[entry.key] == nil {
            positions[entry.key] = index
        }
        self.positions = positions
    }

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }

    /// The entry for `key`, noting that it was asked for.
    private func entry(_ key: Key) -> ManifestEntry? {
        decoder.state.askedKeys[decoder.path, default: []].insert(key.stringValue)
        return positions[key.stringValue].map { entries[$0] }
    }

    private func required(_ key: Key, line: Int?) -> DecodingFailure {
        DecodingFailure(path: FieldPath.appending(key.stringValue, to: decoder.path), message: "Required value",
                        line: line ?? decoder.node.line)
    }

    func contains(_ key: Key) -> Bool {
        entry(key) != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let entry = entry(key) else { throw required(key, line: nil) }
        return entry.value.isNull
    }

    /// A missing or null field is "Required value", as Kubernetes validation would say.
    private func value<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let entry = entry(key) else { throw required(key, line: nil) }
        if entry.value.isNull, !(T.self is NullDecodable.Type) {
            throw required(key, line: entry.line)
        }
        return try decoder.child(entry.value, key: key).decodeValue(type)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try value(type, forKey: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try value(type, forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try value(type, forKey: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try value(type, forKey: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try value(type, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try value(type, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try value(type, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try value(type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try value(type, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try value(type, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try value(type, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try value(type, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try value(type, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try value(type, forKey: key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try value(type, forKey: key) }

    /// Absent and null both mean "not set", as for Go's omitempty pointers.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let entry = entry(key), !entry.value.isNull else { return nil }
        return try decoder.child(entry.value, key: key).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey> {
        guard let entry = entry(key) else { throw required(key, line: nil) }
        return try decoder.child(entry.value, key: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        guard let entry = entry(key) else { throw required(key, line: nil) }
        return try decoder.child(entry.value, key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        decoder.child(node(named: "super"), key: NamedKey("super"))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.child(node(named: key.stringValue), key: key)
    }

    /// The value of a key, or null when absent, for `superDecoder`.
    private func node(named name: String) -> ManifestNode {
        decoder.state.askedKeys[decoder.path, default: []].insert(name)
        return positions[name].map { entries[$0].value }
            ?? .scalar(ManifestScalar(text: "", plain: true, forcedString: false, line: nil))
    }
}

/// A list, element by element.
struct UnkeyedValueContainer: UnkeyedDecodingContainer {
    let decoder: ValueDecoder
    let elements: [ManifestNode]
    private(set) var currentIndex = 0

    init(decoder: ValueDecoder, elements: [ManifestNode]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingFailure(path: FieldPath.appending(index: currentIndex, to: decoder.path),
                                  message: "Required value", line: decoder.node.line)
        }
        return decoder.child(elements[currentIndex], key: IndexKey(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try primitive { try $0.decodeValue(type) }
    }

    /// Decodes the current element with `body` and moves past it.
    private mutating func primitive<T>(_ body: (ValueDecoder) throws -> T) throws -> T {
        let value = try body(next())
        currentIndex += 1
        return value
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: String.Type) throws -> String { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try primitive { try $0.decode(type) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try primitive { try $0.decode(type) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey> {
        let container = try next().container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try next().unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = try next()
        currentIndex += 1
        return decoder
    }
}
