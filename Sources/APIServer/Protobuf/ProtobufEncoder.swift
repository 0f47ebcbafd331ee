import APIMachinery
import Foundation
import KubeAPI

/// Encodes API objects as Kubernetes protobuf (`application/vnd.kubernetes.protobuf`), the
/// inverse of `ProtobufDecoder`: the JSON the server holds is written field by field as the
/// message `TypeSchema` names for its kind, and whole responses are wrapped as
/// apimachinery's protobuf serializer wraps them: the magic `k8s\0`, then a `runtime.Unknown`
/// {typeMeta{apiVersion, kind}, raw, contentEncoding, contentType}.
///
/// What a Go client decodes is what it would decode from kube-apiserver: every member present
/// in the JSON is written (so optional pointer fields that are set, zero or not, are set after
/// decoding), members absent or null are left out (Go's zero value, or nil for pointers, as
/// kube-apiserver's empty fields decode). Fields go out in field-number order and map entries
/// in key order, as gogo-protobuf's generated marshalers write them.
///
/// See k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go (Serializer.Encode,
/// RawSerializer) and pkg/runtime/types_proto.go (Unknown.NestedMarshalTo).
struct ProtobufEncoder {
    static let magic = ProtobufDecoder.magic

    /// Deepest nesting written; deeper JSON is refused rather than recursed into.
    static let maximumDepth = 100

    // MARK: - Whole objects

    /// Whether objects of `kind` in `group` (and their lists) can be written in protobuf.
    static func canEncode(group: String, kind: String) -> Bool {
        fields(of: TypeSchema.messageName(group: group, kind: kind)) != nil
    }

    /// A whole response body: magic, envelope, and `object`'s message, named by its own
    /// `apiVersion` and `kind`.
    static func encodeObject(_ object: JSONValue) throws(APIError) -> [UInt8] {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let kind = object["kind"]?.stringValue ?? ""
        let name = TypeSchema.messageName(apiVersion: apiVersion, kind: kind)
        guard fields(of: name) != nil else {
            throw APIError.internalError("no protobuf schema for \(apiVersion) \(kind)")
        }
        return envelope(apiVersion: apiVersion, kind: kind, raw: try message(name, object))
    }

    /// A whole list body from items held as stored JSON: each item is parsed, encoded and
    /// dropped in turn, so a list never holds every item parsed at once.
    static func encodeList(apiVersion: String, kind: String, metadata: JSONValue, items: [[UInt8]]) throws(APIError) -> [UInt8] {
        let itemKind = String(kind.dropLast(4))
        let itemMessage = TypeSchema.messageName(apiVersion: apiVersion, kind: itemKind)
        guard kind.hasSuffix("List"), plan(of: itemMessage) != nil else {
            throw APIError.internalError("no protobuf schema for \(apiVersion) \(kind)")
        }
        var list = ProtobufWriter()
        list.message(1, try message("ListMeta", metadata))
        for item in items {
            list.message(2, try message(itemMessage, try KubeObject(json: item).json))
        }
        return envelope(apiVersion: apiVersion, kind: kind, raw: list.bytes)
    }

    /// `k8s\0` + `runtime.Unknown`. kube-apiserver writes the empty `contentEncoding` and
    /// `contentType` too (gogo writes every non-pointer string); so does this.
    static func envelope(apiVersion: String, kind: String, raw: [UInt8]) -> [UInt8] {
        var unknown = ProtobufWriter()
        unknown.message(1) { typeMeta in
            typeMeta.string(1, apiVersion)
            typeMeta.string(2, kind)
        }
        unknown.message(2, raw)
        unknown.string(3, "")
        unknown.string(4, "")
        return magic + unknown.bytes
    }

    /// The message `name` for the JSON object `value`.
    static func message(_ name: String, _ value: JSONValue) throws(APIError) -> [UInt8] {
        var writer = ProtobufWriter()
        try write(name, value, to: &writer, depth: 0)
        return writer.bytes
    }

    // MARK: - Schema

    /// A message's fields in field-number order; `inline` names the message of an embedded Go
    /// struct (`json:",inline"`), whose members sit in this object's JSON.
    typealias Fields = [(number: Int, field: TypeSchema.Field, inline: String?)]

    /// A message as the encoder walks it: its fields, the index of each by JSON name, and
    /// whether it embeds an inline struct (then it is walked field by field, not member by member).
    struct Plan {
        let fields: Fields
        let byName: [String: Int]
        let hasInline: Bool

        init(_ fields: Fields) {
            self.fields = fields
            var byName: [String: Int] = [:]
            for (index, entry) in fields.enumerated() { byName[entry.field.name] = index }
            self.byName = byName
            hasInline = fields.contains { $0.inline != nil }
        }
    }

    /// The fields of `name`: from `TypeSchema`, the meta/v1 messages it lacks, and lists
    /// (every `XList` of Kubernetes is `ListMeta metadata = 1; repeated X items = 2`).
    static func fields(of name: String) -> Fields? {
        plan(of: name)?.fields
    }

    static func plan(of name: String) -> Plan? {
        if let known = plans[name] { return known }
        if name.hasSuffix("List"), plans[String(name.dropLast(4))] != nil {
            return Plan([(1, TypeSchema.Field(name: "metadata", type: .message("ListMeta"), repeated: false), nil),
                         (2, TypeSchema.Field(name: "items", type: .message(String(name.dropLast(4))), repeated: true), nil)])
        }
        return nil
    }

    private static let plans: [String: Plan] = {
        var all = TypeSchema.messages
        for (name, fields) in metaMessages where all[name] == nil { all[name] = fields }
        var plans: [String: Plan] = [:]
        for (name, fields) in all {
            plans[name] = Plan(fields.sorted { $0.key < $1.key }.map { number, field in
                var inline: String?
                if TypeSchema.inlineFields.contains("\(name).\(field.name)"), case .message(let inner) = field.type { inline = inner }
                return (number: number, field: field, inline: inline)
            })
        }
        return plans
    }()

    /// meta/v1 messages the schema tables (request bodies) do not carry, from
    /// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto.
    static let metaMessages: [String: [Int: TypeSchema.Field]] = {
        func field(_ name: String, _ type: TypeSchema.FieldType, repeated: Bool = false) -> TypeSchema.Field {
            TypeSchema.Field(name: name, type: type, repeated: repeated)
        }
        return [
            "ListMeta": [1: field("selfLink", .string), 2: field("resourceVersion", .string), 3: field("continue", .string),
                         4: field("remainingItemCount", .integer)],
            "Status": [1: field("metadata", .message("ListMeta")), 2: field("status", .string), 3: field("message", .string),
                       4: field("reason", .string), 5: field("details", .message("StatusDetails")), 6: field("code", .integer)],
            "StatusDetails": [1: field("name", .string), 2: field("group", .string), 3: field("kind", .string),
                              4: field("causes", .message("StatusCause"), repeated: true), 5: field("retryAfterSeconds", .integer),
                              6: field("uid", .string)],
            "StatusCause": [1: field("reason", .string), 2: field("message", .string), 3: field("field", .string)],
            "WatchEvent": [1: field("type", .string), 2: field("object", .message("RawExtension"))],
        ]
    }()

    // MARK: - Messages

    private static func write(_ name: String, _ value: JSONValue, to writer: inout ProtobufWriter, depth: Int) throws(APIError) {
        guard depth < maximumDepth else { throw APIError.internalError("an object nested deeper than \(maximumDepth) cannot be written in protobuf") }
        if TypeSchema.nativeMessages.contains(name) {
            try writeNative(name, value, to: &writer)
            return
        }
        guard let plan = plan(of: name) else { throw APIError.internalError("no protobuf schema for message \(name)") }
        guard case .object(let members) = value else { return }
        guard plan.hasInline else {
            // The members present (usually a few of the schema's fields), in field-number order.
            var present: [(index: Int, member: JSONValue)] = []
            present.reserveCapacity(members.count)
            for (key, member) in members where member != .null {
                if let index = plan.byName[key] { present.append((index, member)) }
            }
            present.sort { $0.index < $1.index }
            for (index, member) in present {
                try writeField(plan.fields[index].number, plan.fields[index].field, member, to: &writer, depth: depth)
            }
            return
        }
        for (number, field, inline) in plan.fields {
            if let inner = inline {
                // An embedded Go struct (`json:",inline"`): its members sit in this object's JSON,
                // its message is a field of this one (always written: it is not a pointer).
                var nested = ProtobufWriter()
                try write(inner, value, to: &nested, depth: depth + 1)
                writer.message(number, nested.bytes)
                continue
            }
            guard let member = members[field.name], member != .null else { continue }
            try writeField(number, field, member, to: &writer, depth: depth)
        }
    }

    /// One member: a map's entries, a list's elements, or one value.
    private static func writeField(_ number: Int, _ field: TypeSchema.Field, _ member: JSONValue,
                                   to writer: inout ProtobufWriter, depth: Int) throws(APIError) {
        if case .map(let keyType, let valueType) = field.type {
            guard case .object(let entries) = member else { return }
            for key in entries.keys.sorted() {
                var entry = ProtobufWriter()
                try writeValue(1, keyType, .string(key), to: &entry, depth: depth + 1)
                try writeValue(2, valueType, entries[key] ?? .null, to: &entry, depth: depth + 1)
                writer.message(number, entry.bytes)
            }
        } else if field.repeated {
            // proto2 without [packed=true]: one field per element, numbers too.
            guard case .array(let elements) = member else { return }
            for element in elements {
                try writeValue(number, field.type, element, to: &writer, depth: depth + 1)
            }
        } else {
            try writeValue(number, field.type, member, to: &writer, depth: depth + 1)
        }
    }

    private static func writeValue(_ number: Int, _ type: TypeSchema.FieldType, _ value: JSONValue,
                                   to writer: inout ProtobufWriter, depth: Int) throws(APIError) {
        switch type {
        case .string:
            writer.string(number, text(value))
        case .bytes:
            // JSON carries []byte as base64.
            writer.message(number, Data(base64Encoded: text(value)).map { Array($0) } ?? [])
        case .integer:
            writer.integer(number, integer(value))
        case .bool:
            writer.bool(number, value.boolValue ?? false)
        case .double:
            writer.double(number, double(value))
        case .float:
            writer.float(number, Float(double(value)))
        case .message(let name):
            var nested = ProtobufWriter()
            try write(name, value, to: &nested, depth: depth)
            writer.message(number, nested.bytes)
        case .map:
            throw APIError.internalError("a map inside a map cannot be written in protobuf")
        }
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .null: return ""
        default: return String(decoding: JSONSerializer.serialize(value), as: UTF8.self)
        }
    }

    private static func integer(_ value: JSONValue) -> Int64 {
        switch value {
        case .int(let number): return number
        case .double(let number) where number.isFinite && abs(number) < 9.2e18: return Int64(number)
        case .string(let text): return Int64(text) ?? 0
        default: return 0
        }
    }

    private static func double(_ value: JSONValue) -> Double {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: return 0
        }
    }

    // MARK: - apimachinery's own types

    /// Times, durations, quantities, int-or-strings and embedded JSON: their JSON form is not
    /// their message (ProtobufDecoder.nativeMessage is the inverse).
    private static func writeNative(_ name: String, _ value: JSONValue, to writer: inout ProtobufWriter) throws(APIError) {
        switch name {
        case "Time", "MicroTime":
            // metav1.Time.Marshal: an unset (zero) time is an empty message; otherwise a
            // Timestamp{seconds, nanos}, both always written.
            guard case .string(let text) = value, let (seconds, nanos) = timestamp(text) else { return }
            writer.integer(1, seconds)
            writer.integer(2, name == "Time" ? 0 : nanos)
        case "Duration":
            writer.integer(1, GoDuration.nanoseconds(text(value)) ?? 0)
        case "IntOrString":
            // intstr.IntOrString: type (0 Int, 1 String), intVal, strVal, all written.
            if case .string(let text) = value {
                writer.integer(1, 1)
                writer.integer(2, 0)
                writer.string(3, text)
            } else {
                writer.integer(1, 0)
                writer.integer(2, Int64(Int32(truncatingIfNeeded: integer(value))))
                writer.string(3, "")
            }
        case "Quantity":
            writer.string(1, text(value))
        case "RawExtension":
            // The embedded object as JSON bytes, as kube-apiserver holds and writes it.
            writer.message(1, JSONSerializer.serializeInTypeOrder(value))
        case "FieldsV1":
            // A field set: keys sorted, as structured-merge-diff writes it (no kinds inside, so
            // the plain serializer, a third of the cost of the type-ordered one here).
            writer.message(1, JSONSerializer.serialize(value))
        default:
            throw APIError.internalError("no protobuf form for \(name)")
        }
    }

    /// Seconds since the epoch and nanoseconds of an RFC 3339 time (`2026-12-03T10:00:00Z`,
    /// `2026-12-03T10:00:00.123456Z` for MicroTime); nil when it is not one.
    static func timestamp(_ text: String) -> (Int64, Int64)? {
        guard let time = Time(rfc3339: text) else { return nil }
        let seconds = Int64(time.date.timeIntervalSince1970)
        var nanos: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            let padded = String(digits.prefix(9)) + String(repeating: "0", count: max(0, 9 - digits.count))
            nanos = Int64(padded) ?? 0
        }
        return (seconds, nanos)
    }
}
