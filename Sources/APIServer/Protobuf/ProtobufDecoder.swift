import APIMachinery
import Foundation
import KubeAPI

/// Decodes Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`, what
/// kubectl 1.32+ sends for `kubectl create deployment|service|namespace|configmap|secret`)
/// into the same JSON the API would have received: the `k8s\0` magic, a `runtime.Unknown`
/// envelope naming apiVersion and kind, and the object's message, decoded field by field
/// with `TypeSchema`. Unknown fields are skipped, as protobuf readers do.
///
/// See https://kubernetes.io/docs/reference/using-api/api-concepts/#protobuf-encoding
struct ProtobufDecoder {
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]
    /// Deepest message nesting accepted (a PodSpec in a Deployment is about 10 deep).
    static let maximumDepth = 64

    private let bytes: [UInt8]

    /// Decodes a whole body: magic, envelope, object.
    static func decodeObject(_ body: [UInt8]) throws(APIError) -> JSONValue {
        guard body.count >= magic.count, Array(body.prefix(magic.count)) == magic else {
            throw APIError.badRequest("the protobuf body does not start with the Kubernetes magic number \"k8s\\x00\"")
        }
        let envelope = ProtobufDecoder(bytes: Array(body.dropFirst(magic.count)))
        var apiVersion = "", kind = "", raw: [UInt8] = []
        try envelope.forEachField(in: 0..<envelope.bytes.count) { (number, value) throws(APIError) in
            switch (number, value) {
            case (1, .bytes(let range)):
                try envelope.forEachField(in: range) { (inner, innerValue) throws(APIError) in
                    if case .bytes(let text) = innerValue {
                        if inner == 1 { apiVersion = envelope.string(text) }
                        if inner == 2 { kind = envelope.string(text) }
                    }
                }
            case (2, .bytes(let range)):
                raw = Array(envelope.bytes[range])
            case (4, .bytes(let range)):
                let contentType = envelope.string(range)
                if !contentType.isEmpty, contentType != "application/vnd.kubernetes.protobuf" {
                    throw APIError.unsupportedMediaType(contentType, accepted: [MediaTypes.protobuf])
                }
            default:
                break
            }
        }
        let message = TypeSchema.messageName(apiVersion: apiVersion, kind: kind)
        guard !kind.isEmpty, TypeSchema.messages[message] != nil else {
            throw APIError.badRequest("the protobuf body is a \(ObjectValidation.quote(kind)), which this server cannot decode; send it as JSON")
        }
        var object = try ProtobufDecoder(bytes: raw).message(message, in: 0..<raw.count, depth: 0)
        object.set(.string(apiVersion), at: ["apiVersion"])
        object.set(.string(kind), at: ["kind"])
        return object
    }

    // MARK: - Wire format

    /// A field's raw value: varints, fixed-width numbers, or a length-delimited range.
    enum WireValue {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(Range<Int>)
    }

    private func forEachField(in range: Range<Int>, _ body: (Int, WireValue) throws(APIError) -> Void) throws(APIError) {
        var index = range.lowerBound
        while index < range.upperBound {
            let tag = try varint(&index, limit: range.upperBound)
            let number = Int(tag >> 3)
            guard number > 0 else { throw malformed("field number 0", at: index) }
            switch tag & 7 {
            case 0:
                try body(number, .varint(try varint(&index, limit: range.upperBound)))
            case 1:
                guard index + 8 <= range.upperBound else { throw malformed("truncated 64-bit field \(number)", at: index) }
                var value: UInt64 = 0
                for offset in 0..<8 { value |= UInt64(bytes[index + offset]) << (8 * offset) }
                index += 8
                try body(number, .fixed64(value))
            case 2:
                let length = try varint(&index, limit: range.upperBound)
                guard length <= UInt64(range.upperBound - index) else { throw malformed("field \(number) longer than its message", at: index) }
                let end = index + Int(length)
                try body(number, .bytes(index..<end))
                index = end
            case 5:
                guard index + 4 <= range.upperBound else { throw malformed("truncated 32-bit field \(number)", at: index) }
                var value: UInt32 = 0
                for offset in 0..<4 { value |= UInt32(bytes[index + offset]) << (8 * offset) }
                index += 4
                try body(number, .fixed32(value))
            default:
                throw malformed("unsupported wire type \(tag & 7) for field \(number)", at: index)
            }
        }
    }

    private func varint(_ index: inout Int, limit: Int) throws(APIError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < limit {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift >= 64 { throw malformed("varint longer than 10 bytes", at: index) }
        }
        throw malformed("truncated varint", at: index)
    }

    private func malformed(_ what: String, at index: Int) -> APIError {
        APIError.badRequest("the request body is not valid protobuf: \(what) (at byte \(index + Self.magic.count))")
    }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    // MARK: - Messages

    /// Decodes the message `name` occupying `range`.
    private func message(_ name: String, in range: Range<Int>, depth: Int) throws(APIError) -> JSONValue {
        guard depth < Self.maximumDepth else { throw malformed("messages nested deeper than \(Self.maximumDepth)", at: range.lowerBound) }
        if let native = try nativeMessage(name, in: range) { return native }
        guard let fields = TypeSchema.messages[name] else {
            throw APIError.internalError("no protobuf schema for message \(name)")
        }
        // Lists and maps are gathered apart and assembled at the end: appending to a copy
        // taken out of `members` for every element would be quadratic in the element count.
        var members: [String: JSONValue] = [:]
        var lists: [String: [JSONValue]] = [:]
        var maps: [String: [String: JSONValue]] = [:]
        var inlined: [String: JSONValue] = [:]
        try forEachField(in: range) { (number, wire) throws(APIError) in
            guard let field = fields[number] else { return }
            if case .map(let keyType, let valueType) = field.type {
                guard case .bytes(let entry) = wire else { throw malformed("map entry \(field.name) is not length-delimited", at: range.lowerBound) }
                var key = "", value: JSONValue = .null
                try forEachField(in: entry) { (part, partValue) throws(APIError) in
                    if part == 1, let decoded = try scalar(keyType, partValue, depth: depth) { key = decoded.stringValue ?? "" }
                    if part == 2, let decoded = try scalar(valueType, partValue, depth: depth) { value = decoded }
                }
                maps[field.name, default: [:]][key] = value
                return
            }
            if field.repeated {
                if case .bytes(let packed) = wire, [.integer, .bool, .double, .float].contains(field.type) {
                    // A packed list of numbers.
                    var index = packed.lowerBound
                    while index < packed.upperBound {
                        switch field.type {
                        case .double, .float:
                            let width = field.type == .double ? 8 : 4
                            guard index + width <= packed.upperBound else { throw malformed("truncated packed \(field.name)", at: index) }
                            var raw: UInt64 = 0
                            for offset in 0..<width { raw |= UInt64(bytes[index + offset]) << (8 * offset) }
                            index += width
                            lists[field.name, default: []].append(.double(width == 8 ? Double(bitPattern: raw) : Double(Float(bitPattern: UInt32(raw)))))
                        default:
                            let raw = try varint(&index, limit: packed.upperBound)
                            lists[field.name, default: []].append(field.type == .bool ? .bool(raw != 0) : .int(Int64(bitPattern: raw)))
                        }
                    }
                } else if let value = try scalar(field.type, wire, depth: depth, keepEmpty: true) {
                    lists[field.name, default: []].append(value)
                } else if lists[field.name] == nil {
                    lists[field.name] = []
                }
                return
            }
            let value = try scalar(field.type, wire, depth: depth)
            if TypeSchema.inlineFields.contains("\(name).\(field.name)") {
                // An embedded Go struct (`json:",inline"`): its members belong to this object.
                if case .object(let inner)? = value { inlined.merge(inner) { _, new in new } }
                return
            }
            // Go writes every non-pointer number and bool, zero or not; its JSON omits them
            // (`omitempty`). Pointer fields are only written when set, so their zero counts.
            if value == .int(0) || value == .bool(false), !Self.pointerFields.contains("\(name).\(field.name)") {
                return
            }
            members[field.name] = value
        }
        for (key, list) in lists { members[key] = .array(list) }
        for (key, map) in maps { members[key] = .object(map) }
        for (key, value) in inlined where members[key] == nil { members[key] = value }
        return .object(members)
    }

    /// Optional (pointer) numbers and flags whose zero or false is a value, not "unset".
    static let pointerFields: Set<String> = [
        "DeploymentSpec.replicas", "DeploymentSpec.revisionHistoryLimit", "DeploymentSpec.progressDeadlineSeconds",
        "ReplicaSetSpec.replicas", "ReplicationControllerSpec.replicas", "ObjectMeta.deletionGracePeriodSeconds", "DeleteOptions.gracePeriodSeconds",
        "PodSpec.terminationGracePeriodSeconds", "PodSpec.activeDeadlineSeconds", "PodSpec.automountServiceAccountToken",
        "PodSpec.shareProcessNamespace", "PodSpec.priority", "PodSpec.enableServiceLinks", "PodSpec.hostUsers",
        "PodSpec.setHostnameAsFQDN", "ServiceAccount.automountServiceAccountToken",
        "SecurityContext.privileged", "SecurityContext.runAsUser", "SecurityContext.runAsGroup", "SecurityContext.runAsNonRoot",
        "SecurityContext.readOnlyRootFilesystem", "SecurityContext.allowPrivilegeEscalation",
        "PodSecurityContext.runAsUser", "PodSecurityContext.runAsGroup", "PodSecurityContext.runAsNonRoot",
        "PodSecurityContext.fsGroup", "ConfigMap.immutable", "Secret.immutable", "ServiceSpec.allocateLoadBalancerNodePorts",
        "ConfigMapVolumeSource.defaultMode", "ConfigMapVolumeSource.optional", "SecretVolumeSource.defaultMode",
        "SecretVolumeSource.optional", "KeyToPath.mode", "ConfigMapKeySelector.optional", "SecretKeySelector.optional",
        "ConfigMapEnvSource.optional", "SecretEnvSource.optional", "LeaseSpec.leaseDurationSeconds", "LeaseSpec.leaseTransitions",
        "ProjectedVolumeSource.defaultMode", "DownwardAPIVolumeSource.defaultMode", "HostPathVolumeSource.type",
    ]

    /// One value; nil for values Kubernetes' JSON would omit (empty strings, unset times).
    private func scalar(_ type: TypeSchema.FieldType, _ wire: WireValue, depth: Int, keepEmpty: Bool = false) throws(APIError) -> JSONValue? {
        switch (type, wire) {
        case (.string, .bytes(let range)):
            let text = string(range)
            return text.isEmpty && !keepEmpty ? nil : .string(text)
        case (.bytes, .bytes(let range)):
            return .string(Data(bytes[range]).base64EncodedString())
        case (.integer, .varint(let raw)):
            return .int(Int64(bitPattern: raw))
        case (.bool, .varint(let raw)):
            return .bool(raw != 0)
        case (.double, .fixed64(let raw)):
            return .double(Double(bitPattern: raw))
        case (.float, .fixed32(let raw)):
            return .double(Double(Float(bitPattern: raw)))
        case (.message(let name), .bytes(let range)):
            let value = try message(name, in: range, depth: depth + 1)
            return value == .null ? nil : value
        default:
            throw malformed("a field of type \(type) came with the wrong wire type", at: 0)
        }
    }

    /// The apimachinery types whose JSON form is not their message: times, quantities,
    /// int-or-strings, embedded raw JSON (`.null` for an unset time). nil when `name` is an
    /// ordinary message.
    private func nativeMessage(_ name: String, in range: Range<Int>) throws(APIError) -> JSONValue? {
        switch name {
        case "Time", "MicroTime":
            var seconds: Int64 = 0, nanos: Int64 = 0, empty = true
            try forEachField(in: range) { (number, value) throws(APIError) in
                guard case .varint(let raw) = value else { return }
                empty = false
                if number == 1 { seconds = Int64(bitPattern: raw) }
                if number == 2 { nanos = Int64(bitPattern: raw) }
            }
            if empty { return .null }
            // Go's Time.MarshalJSON refuses years outside 0...9999; so does this server (a time
            // beyond them cannot be written in RFC 3339, nor converted to a time_t safely).
            guard (Self.earliestSeconds...Self.latestSeconds).contains(seconds), (0..<1_000_000_000).contains(nanos) else {
                throw APIError.badRequest("the protobuf body has a \(name) of \(seconds) seconds and \(nanos) nanoseconds, outside the years 0 to 9999 that JSON times can say")
            }
            let time = Time(Date(timeIntervalSince1970: Double(seconds)))
            if name == "Time" { return .string(time.description) }
            let micros = String(format: "%06d", Int(nanos / 1000))
            return .string(String(time.description.dropLast()) + ".\(micros)Z")
        case "Duration":
            var nanoseconds: Int64 = 0
            try forEachField(in: range) { (number, value) throws(APIError) in
                if number == 1, case .varint(let raw) = value { nanoseconds = Int64(bitPattern: raw) }
            }
            return .string(GoDuration.string(nanoseconds: nanoseconds))
        case "IntOrString":
            var type: UInt64 = 0, number: Int64 = 0, text = ""
            try forEachField(in: range) { (field, value) throws(APIError) in
                switch (field, value) {
                case (1, .varint(let raw)): type = raw
                case (2, .varint(let raw)): number = Int64(Int32(truncatingIfNeeded: raw))
                case (3, .bytes(let range)): text = string(range)
                default: break
                }
            }
            return type == 1 ? .string(text) : .int(number)
        case "Quantity":
            var text = ""
            try forEachField(in: range) { (field, value) throws(APIError) in
                if field == 1, case .bytes(let range) = value { text = string(range) }
            }
            return .string(text)
        case "RawExtension", "FieldsV1":
            var raw: [UInt8] = []
            try forEachField(in: range) { (field, value) throws(APIError) in
                if field == 1, case .bytes(let range) = value { raw = Array(bytes[range]) }
            }
            if raw.isEmpty { return .null }
            do {
                return try JSONParser.parse(raw)
            } catch {
                throw APIError.badRequest("an embedded object in the protobuf body is not JSON: \(error.message)")
            }
        default:
            return nil
        }
    }

    /// The range of `Time` seconds Go can marshal: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    static let earliestSeconds: Int64 = -62_135_596_800
    static let latestSeconds: Int64 = 253_402_300_799
}
