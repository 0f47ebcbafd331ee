import APIMachinery
import APIRegistry
import KubeAPI

/// The schemas of the built-in types as kube-openapi writes them, from `TypeSchema`'s
/// definitions: `definitions` of OpenAPI v2 (`#/definitions/...`) and `components.schemas` of
/// v3 (`#/components/schemas/...`). The two differ where upstream's do: v3 wraps a `$ref`
/// that carries a description or default in `allOf` (a v3 `$ref` ignores its siblings), and
/// Quantity and IntOrString are `oneOf` unions in v3 but strings in v2.
struct OpenAPISchemas: Sendable {
    enum Flavor: Sendable { case v2, v3 }

    let flavor: Flavor
    /// The group-versions served, for the meta types every group-version carries.
    let servedGroupVersions: [(group: String, version: String)]

    init(flavor: Flavor, registry: ResourceRegistry) {
        self.flavor = flavor
        self.servedGroupVersions = registry.groupVersions
    }

    /// `#/definitions/io.k8s.api.core.v1.Pod` or `#/components/schemas/...`.
    func reference(_ message: String) -> JSONValue? {
        guard let definition = TypeSchema.definition(of: message) else { return nil }
        return .object(["$ref": .string((flavor == .v2 ? "#/definitions/" : "#/components/schemas/") + definition.openAPIName)])
    }

    /// The messages `roots` need, themselves included, in a stable order.
    static func closure(_ roots: [String]) -> [String] {
        var seen: Set<String> = [], order: [String] = [], queue = roots
        while let name = queue.first {
            queue.removeFirst()
            guard !seen.contains(name), let definition = TypeSchema.definition(of: name) else { continue }
            seen.insert(name)
            order.append(name)
            queue += definition.properties.filter { !$0.isScalar }.map(\.type)
            if let element = definition.arrayOf, !TypeSchema.scalarTypes.contains(element) { queue.append(element) }
        }
        return order.sorted()
    }

    /// The meta types kube-apiserver registers in every group-version.
    static let sharedKinds: Set<String> = ["Status", "DeleteOptions", "WatchEvent"]

    /// `name → schema` for each message of `messages` (wrapper types such as ExtraValue are
    /// written inline where used, as openapi-gen does, and get no definition of their own).
    func definitions(_ messages: [String]) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for message in messages {
            guard let definition = TypeSchema.definition(of: message), definition.arrayOf == nil else { continue }
            result[definition.openAPIName] = schema(of: definition)
        }
        return result
    }

    /// The schema of one definition.
    func schema(of definition: TypeSchema.Definition) -> JSONValue {
        var schema: [String: JSONValue] = [:]
        if !definition.description.isEmpty { schema["description"] = .string(definition.description) }
        // apimachinery's types with their own JSON form (their OpenAPISchemaType/-Format and
        // OpenAPIV3OneOfTypes methods).
        switch definition.openAPIName {
        case "io.k8s.apimachinery.pkg.apis.meta.v1.Time", "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime":
            schema["type"] = .string("string")
            schema["format"] = .string("date-time")
            return .object(schema)
        case "io.k8s.apimachinery.pkg.apis.meta.v1.Duration":
            schema["type"] = .string("string")
            return .object(schema)
        case "io.k8s.apimachinery.pkg.api.resource.Quantity":
            if flavor == .v2 {
                schema["type"] = .string("string")
            } else {
                schema["oneOf"] = .array([Self.typed("string"), Self.typed("number")])
            }
            return .object(schema)
        case "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
            schema["format"] = .string("int-or-string")
            if flavor == .v2 {
                schema["type"] = .string("string")
            } else {
                schema["oneOf"] = .array([Self.typed("integer"), Self.typed("string")])
            }
            return .object(schema)
        case "io.k8s.apimachinery.pkg.runtime.RawExtension", "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
             "io.k8s.apimachinery.pkg.apis.meta.v1.Patch":
            schema["type"] = .string("object")
            return .object(schema)
        default:
            break
        }
        schema["type"] = .string("object")
        var properties: [String: JSONValue] = [:]
        for property in definition.properties {
            properties[property.name] = self.property(property)
        }
        if !properties.isEmpty { schema["properties"] = .object(properties) }
        let required = definition.required
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        if let mapType = definition.mapType { schema["x-kubernetes-map-type"] = .string(mapType) }
        let kinds = groupVersionKinds(definition)
        if !kinds.isEmpty { schema["x-kubernetes-group-version-kind"] = .array(kinds) }
        return .object(schema)
    }

    /// `x-kubernetes-group-version-kind`: the kind in its own group-version, or, for the meta
    /// types, in every group-version served (as kube-apiserver registers them).
    func groupVersionKinds(_ definition: TypeSchema.Definition) -> [JSONValue] {
        func gvk(_ group: String, _ version: String) -> JSONValue {
            .object(["group": .string(group), "version": .string(version), "kind": .string(definition.goName)])
        }
        if Self.sharedKinds.contains(definition.name), definition.protoPackage == "k8s.io.apimachinery.pkg.apis.meta.v1" {
            return servedGroupVersions.map { gvk($0.group, $0.version) }
        }
        guard definition.isKind, let served = definition.groupVersion else { return [] }
        return [gvk(served.group, served.version)]
    }

    /// The schema of a member: its type, then the description, default and the markers.
    func property(_ property: TypeSchema.Property) -> JSONValue {
        let element = type(property.type)
        var schema: [String: JSONValue]
        if property.repeated {
            schema = ["type": .string("array"), "items": element]
        } else if property.map {
            schema = ["type": .string("object"), "additionalProperties": element]
        } else if case .object(let members) = element {
            schema = members
        } else {
            schema = [:]
        }
        let isReference = schema["$ref"] != nil
        if !property.description.isEmpty { schema["description"] = .string(property.description) }
        if let value = property.defaultValue { schema["default"] = value }
        if !property.enumValues.isEmpty { schema["enum"] = .array(property.enumValues.map { .string($0) }) }
        if flavor == .v3, isReference, schema.count > 1, let reference = schema.removeValue(forKey: "$ref") {
            schema["allOf"] = .array([.object(["$ref": reference])])
        }
        if let listType = property.listType { schema["x-kubernetes-list-type"] = .string(listType) }
        if !property.listMapKeys.isEmpty { schema["x-kubernetes-list-map-keys"] = .array(property.listMapKeys.map { .string($0) }) }
        if let key = property.patchMergeKey { schema["x-kubernetes-patch-merge-key"] = .string(key) }
        if let strategy = property.patchStrategy { schema["x-kubernetes-patch-strategy"] = .string(strategy) }
        if let mapType = property.mapType { schema["x-kubernetes-map-type"] = .string(mapType) }
        return .object(schema)
    }

    /// The schema of a value of proto type `name`: a scalar's type and format, a reference to a
    /// message's definition, or a wrapper type's array written inline.
    func type(_ name: String) -> JSONValue {
        switch name {
        case "string": return Self.typed("string")
        case "int32": return Self.typed("integer", format: "int32")
        case "int64": return Self.typed("integer", format: "int64")
        case "uint32", "uint64": return Self.typed("integer")
        case "bool": return Self.typed("boolean")
        case "bytes": return Self.typed("string", format: "byte")
        case "double": return Self.typed("number", format: "double")
        case "float": return Self.typed("number", format: "float")
        default:
            if let definition = TypeSchema.definition(of: name), let element = definition.arrayOf {
                return .object(["type": .string("array"), "items": type(element)])
            }
            // A message missing from the table (never for generated ones) is any object.
            return reference(name) ?? Self.typed("object")
        }
    }

    /// `{"type": type, "format": format}`.
    static func typed(_ type: String, format: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": .string(type)]
        if let format { schema["format"] = .string(format) }
        return .object(schema)
    }
}
