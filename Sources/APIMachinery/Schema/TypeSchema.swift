/// The shape of Kubernetes' built-in types (core/v1, apps/v1, batch/v1, coordination.k8s.io/v1,
/// authentication.k8s.io/v1, autoscaling/v1, networking.k8s.io/v1, events.k8s.io/v1, meta/v1): for each message, its fields by protobuf number with their JSON
/// names and types. Built from `TypeSchema.table`, generated from Kubernetes' generated.proto
/// files by generate-schema.py in this folder. The protobuf body decoder reads fields by
/// number; `SchemaValidator` checks JSON objects against the same fields by name, which is what
/// decoding into Kubernetes' Go types does (unknown fields, wrong JSON types).
package enum TypeSchema {
    package indirect enum FieldType: Sendable, Equatable {
        case string
        case integer
        case bool
        case bytes
        case double
        case float
        case message(String)
        case map(key: FieldType, value: FieldType)
    }

    package struct Field: Sendable {
        package let name: String
        package let type: FieldType
        package let repeated: Bool

        package init(name: String, type: FieldType, repeated: Bool) {
            self.name = name
            self.type = type
            self.repeated = repeated
        }
    }

    /// The message of objects of `kind` in `group`: the kind's own name, but for the groups
    /// whose kinds share a name with core/v1's (events.k8s.io's Event: `events.v1.Event`;
    /// discovery.k8s.io's messages, whose EndpointPort is not core/v1's: `discovery.v1.EndpointSlice`;
    /// storage.k8s.io's, whose TokenRequest is not authentication's: `storage.v1.StorageClass`).
    package static func messageName(group: String, kind: String) -> String {
        switch group {
        case "events.k8s.io": return "events.v1." + kind
        case "discovery.k8s.io": return "discovery.v1." + kind
        case "storage.k8s.io": return "storage.v1." + kind
        default: return kind
        }
    }

    /// The message of a top-level object from its `apiVersion` (`apps/v1`, or `v1` for the
    /// core group) and `kind`.
    package static func messageName(apiVersion: String, kind: String) -> String {
        messageName(group: apiVersion.contains("/") ? String(apiVersion.prefix { $0 != "/" }) : "", kind: kind)
    }

    /// Message name → field number → field.
    package static let messages: [String: [Int: Field]] = {
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

    /// Fields whose Go struct is embedded with `json:",inline"`: in JSON their members sit in
    /// the enclosing object (a Volume's `secret`, a Probe's `httpGet`, a key selector's `name`),
    /// while protobuf keeps them in a nested message (an Ingress rule's `http`).
    package static let inlineFields: Set<String> = [
        "Volume.volumeSource", "Probe.handler", "EphemeralContainer.ephemeralContainerCommon",
        "ConfigMapKeySelector.localObjectReference", "SecretKeySelector.localObjectReference",
        "ConfigMapEnvSource.localObjectReference", "SecretEnvSource.localObjectReference",
        "ConfigMapVolumeSource.localObjectReference", "ConfigMapProjection.localObjectReference",
        "SecretProjection.localObjectReference", "IngressRule.ingressRuleValue", "PersistentVolumeSpec.persistentVolumeSource",
    ]

    /// The JSON members a message accepts, inline fields flattened in: JSON name → field.
    package static let jsonFields: [String: [String: Field]] = {
        var result: [String: [String: Field]] = [:]
        func flatten(_ name: String, depth: Int) -> [String: Field] {
            if let done = result[name] { return done }
            var members: [String: Field] = [:]
            for field in (messages[name] ?? [:]).values {
                if inlineFields.contains("\(name).\(field.name)"), case .message(let inner) = field.type, depth < 8 {
                    members.merge(flatten(inner, depth: depth + 1)) { first, _ in first }
                } else {
                    members[field.name] = field
                }
            }
            result[name] = members
            return members
        }
        for name in messages.keys { _ = flatten(name, depth: 0) }
        return result
    }()

    /// The apimachinery types whose JSON is not their message: times, durations, quantities,
    /// int-or-strings, raw JSON.
    package static let nativeMessages: Set<String> = [
        "Time", "MicroTime", "Duration", "IntOrString", "Quantity", "RawExtension", "FieldsV1",
    ]

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
