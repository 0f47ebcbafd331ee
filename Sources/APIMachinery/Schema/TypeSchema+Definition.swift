import KubeAPI

/// What openapi-gen reads from the Go types of the built-in kinds, per message: the OpenAPI
/// definition name, the description, and the fields in declared order (Go struct order, which
/// is also Kubernetes' JSON order) with their descriptions, whether they are required, and the
/// list, map and patch markers (`+listType`, `+listMapKey`, `+patchMergeKey`,
/// `+patchStrategy`, `+mapType`, `+structType`, `+enum` types' values). Generated from the comments of the
/// generated.proto files (`generate-schema.py --definitions`); the OpenAPI documents are built
/// from these facts, and structured merge (server-side apply) needs the same list and map keys.
extension TypeSchema {
    /// One message as an OpenAPI definition.
    package struct Definition: Sendable {
        /// The message name the tables use (`Pod`, `events.v1.Event`).
        package let name: String
        /// The Go type's name (`Event` for `events.v1.Event`).
        package let goName: String
        /// The proto package (`k8s.io.api.core.v1`).
        package let protoPackage: String
        /// The doc comment as openapi-gen formats it.
        package let description: String
        /// `+structType`/`+mapType` on the type (`atomic`, `granular`), for `x-kubernetes-map-type`.
        package let mapType: String?
        /// The element type when the Go type is a slice wrapped for protobuf (`ExtraValue` is
        /// `[]string`): its JSON is the array, not an object.
        package let arrayOf: String?
        /// Whether this is a top-level kind (its Go struct embeds TypeMeta: `apiVersion`, `kind`).
        package let isKind: Bool
        /// The JSON members in order: `apiVersion` and `kind` first for kinds, the members of
        /// `json:",inline"` fields in the place of the field.
        package let properties: [Property]

        /// The OpenAPI definition name: the proto package with its domain reversed
        /// (`io.k8s.api.core.v1.Pod`, `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`).
        package var openAPIName: String {
            let labels = protoPackage.split(separator: ".").map(String.init)
            guard labels.count >= 2 else { return protoPackage + "." + goName }
            return ([labels[1], labels[0]] + labels.dropFirst(2) + [goName]).joined(separator: ".")
        }

        /// The group and version of the proto package (`k8s.io.api.apps.v1` → `apps`, `v1`;
        /// `k8s.io.api.networking.v1` → `networking.k8s.io`; core → ``); nil for apimachinery's.
        package var groupVersion: (group: String, version: String)? {
            let labels = protoPackage.split(separator: ".").map(String.init)
            guard labels.count == 5, labels[0] == "k8s", labels[1] == "io", labels[2] == "api" else { return nil }
            // The groups named before the `.k8s.io` convention keep their bare names.
            let bare: Set<String> = ["apps", "batch", "autoscaling", "policy", "extensions"]
            let group = labels[3] == "core" ? "" : bare.contains(labels[3]) ? labels[3] : labels[3] + ".k8s.io"
            return (group, labels[4])
        }

        /// The names of the required members, in order.
        package var required: [String] { properties.filter(\.required).map(\.name) }

        /// The member named `name`.
        package func property(_ name: String) -> Property? { properties.first { $0.name == name } }
    }

    /// One JSON member of a definition.
    package struct Property: Sendable {
        package let name: String
        /// A proto scalar (`string`, `int32`, `int64`, `bool`, `bytes`, `double`, `float`) or a
        /// message name; for lists the element's, for maps the value's (keys are strings).
        package let type: String
        package let repeated: Bool
        package let map: Bool
        package let description: String
        /// openapi-gen's rule: required unless marked `+optional` (the `omitempty` half of the
        /// rule is not in generated.proto).
        package let required: Bool
        /// `+listType`: `atomic`, `set` or `map`.
        package let listType: String?
        /// `+listMapKey`, in order.
        package let listMapKeys: [String]
        /// `+patchMergeKey` and `+patchStrategy` (`merge`, `retainKeys`, `merge,retainKeys`).
        package let patchMergeKey: String?
        package let patchStrategy: String?
        /// `+mapType`: `atomic` or `granular`.
        package let mapType: String?
        /// `+default=` when it is a JSON literal.
        package let defaultValue: JSONValue?
        /// The values of a `+enum` Go string type (its constants), sorted; empty otherwise.
        package let enumValues: [String]

        /// Whether `type` is a proto scalar rather than a message.
        package var isScalar: Bool { TypeSchema.scalarTypes.contains(type) }
    }

    /// The proto scalar type names.
    package static let scalarTypes: Set<String> = ["string", "int32", "int64", "bool", "bytes", "double", "float", "uint32", "uint64"]

    /// The definition of the message `name` (`Pod`, `events.v1.Event`, `ObjectMeta`).
    package static func definition(of name: String) -> Definition? {
        definitions[name]
    }

    /// Every message of `TypeSchema+Definitions.swift` by name, parsed on first use.
    package static let definitions: [String: Definition] = {
        var raw: [String: JSONValue] = [:]
        for line in definitionsText.split(separator: "\n") {
            // The text is generated; a line that does not parse is left out rather than trusted.
            guard let value = try? JSONParser.parse(Array(line.utf8)), let name = value["name"]?.stringValue else { continue }
            raw[name] = value
        }
        var result: [String: Definition] = [:]
        for (name, value) in raw {
            result[name] = makeDefinition(name, value, raw)
        }
        return result
    }()

    /// The descriptions of TypeMeta's members, which generated.proto leaves out of every kind.
    static let apiVersionDescription = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
    static let kindDescription = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"

    private static func makeDefinition(_ name: String, _ value: JSONValue, _ raw: [String: JSONValue]) -> Definition {
        let isKind = value["kind"] == .bool(true)
        var properties: [Property] = []
        if isKind {
            properties.append(simple("apiVersion", apiVersionDescription))
            properties.append(simple("kind", kindDescription))
        }
        properties += members(of: name, raw, depth: 0)
        let goName = name.split(separator: ".").last.map(String.init) ?? name
        return Definition(name: name, goName: goName, protoPackage: value["package"]?.stringValue ?? "",
                          description: value["description"]?.stringValue ?? "", mapType: value["mapType"]?.stringValue,
                          arrayOf: value["arrayOf"]?.stringValue, isKind: isKind, properties: properties)
    }

    /// The JSON members of a message, the members of its inline fields in their place.
    private static func members(of name: String, _ raw: [String: JSONValue], depth: Int) -> [Property] {
        guard case .array(let fields)? = raw[name]?["fields"] else { return [] }
        var result: [Property] = []
        for field in fields {
            guard let fieldName = field["name"]?.stringValue, let type = field["type"]?.stringValue else { continue }
            if inlineFields.contains("\(name).\(fieldName)"), depth < 8 {
                result += members(of: type, raw, depth: depth + 1)
                continue
            }
            var keys: [String] = [], values: [String] = []
            if case .array(let names)? = field["listMapKeys"] { keys = names.compactMap(\.stringValue) }
            if case .array(let names)? = field["enum"] { values = names.compactMap(\.stringValue) }
            result.append(Property(name: fieldName, type: type, repeated: field["repeated"] == .bool(true), map: field["map"] == .bool(true),
                                   description: field["description"]?.stringValue ?? "", required: field["required"] == .bool(true),
                                   listType: field["listType"]?.stringValue, listMapKeys: keys,
                                   patchMergeKey: field["patchMergeKey"]?.stringValue, patchStrategy: field["patchStrategy"]?.stringValue,
                                   mapType: field["mapType"]?.stringValue, defaultValue: field["default"], enumValues: values))
        }
        return result
    }

    private static func simple(_ name: String, _ description: String) -> Property {
        Property(name: name, type: "string", repeated: false, map: false, description: description, required: false,
                 listType: nil, listMapKeys: [], patchMergeKey: nil, patchStrategy: nil, mapType: nil, defaultValue: nil, enumValues: [])
    }
}
