
/// The shape of Kubernetes' protobuf messages: for each message, its fields by number with
/// their JSON names and types. Built from `ProtobufSchema.table` (generated from Kubernetes'
/// generated.proto files by generate-schema.py in this folder).
enum ProtobufSchema {
    indirect enum FieldType: Sendable, Equatable {
        case string
        case integer
        case bool
        case bytes
        case double
        case float
        case message(String)
        case map(key: FieldType, value: FieldType)
    }

    struct Field: Sendable {
        let name: String
        let type: FieldType
        let repeated: Bool
    }

    /// Message name → field number → field.
    static let messages: [String: [Int: Field]] = {
        var messages: [String: [Int: Field]] = [:]
        for line in table.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard let name = parts.first else { continue }
            var fields: [Int: Field] = [:]
            for part in parts.dropFirst() {
                let pieces = part.split(separator: ":", maxSplits: 3).map(String.init)
                guard pieces.count >= 3, let number = Int(pieces[0]) else { continue }
                fields[number] = Field(name: pieces[1], type: fieldType(pieces[2]), repeated: pieces.count > 3 && pieces[3] == "r")
            }
            messages[String(name)] = fields
        }
        return messages
    }()

    private static func fieldType(_ code: String) -> FieldType {
        switch code {
        case "s": return .string
        case "i": return .integer
        case "b": return .bool
        case "y": return .bytes
        case "d": return .double
        case "f": return .float
        default:
            if code.hasPrefix("m<"), code.hasSuffix(">") {
                let inner = code.dropFirst(2).dropLast().split(separator: ",", maxSplits: 1).map(String.init)
                return .map(key: fieldType(inner.first ?? "s"), value: fieldType(inner.last ?? "s"))
            }
            return .message(code)
        }
    }
}
