/// Scalars: each JSON type only decodes as itself, as in Kubernetes' JSON decoding
/// (`image: 5` is an error, `containerPort: "80"` too).
extension ValueDecoder: SingleValueDecodingContainer {
    private var scalar: ManifestScalar? {
        if case .scalar(let scalar) = node { return scalar }
        return nil
    }

    func decodeNil() -> Bool {
        node.isNull
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard let scalar else { throw mismatch(expected: "a boolean") }
        if case .bool(let value) = scalar.kind { return value }
        // YAML 1.1 spellings, which sigs.k8s.io/yaml (go-yaml v2) also reads as booleans.
        if scalar.isPlain, case .string = scalar.kind {
            switch scalar.text {
            case "yes", "Yes", "YES", "on", "On", "ON": return true
            case "no", "No", "NO", "off", "Off", "OFF": return false
            default: break
            }
        }
        throw mismatch(expected: "a boolean")
    }

    func decode(_ type: String.Type) throws -> String {
        guard let scalar, case .string = scalar.kind else { throw mismatch(expected: "a string") }
        return scalar.text
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard let scalar else { throw mismatch(expected: "a number") }
        switch scalar.kind {
        case .integer(let value?): return Double(value)
        case .integer(nil): return Double(scalar.text.replacingOccurrences(of: "_", with: "")) ?? .infinity
        case .float(let value): return value
        default: throw mismatch(expected: "a number")
        }
    }

    func decode(_ type: Float.Type) throws -> Float {
        Float(try decode(Double.self))
    }

    /// An integer of type `T`, with its range checked.
    private func integer<T: FixedWidthInteger>(_ type: T.Type, _ name: String) throws -> T {
        guard let scalar, case .integer(let value) = scalar.kind else {
            throw mismatch(expected: "an integer")
        }
        if let value, let result = T(exactly: value) {
            return result
        }
        if value == nil, T.self == UInt64.self || T.self == UInt.self,
           let unsigned = UInt64(scalar.text.replacingOccurrences(of: "_", with: "")), let result = T(exactly: unsigned) {
            return result
        }
        throw failure("\(scalar.text) is out of range for \(name) (\(T.min) to \(T.max))")
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self, "a 64-bit integer") }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self, "an 8-bit integer") }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self, "a 16-bit integer") }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self, "a 32-bit integer") }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self, "a 64-bit integer") }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self, "an unsigned 64-bit integer") }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self, "an unsigned 8-bit integer") }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self, "an unsigned 16-bit integer") }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self, "an unsigned 32-bit integer") }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self, "an unsigned 64-bit integer") }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(type)
    }
}
