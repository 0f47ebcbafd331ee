import APIMachinery
import KubeAPI

/// The OpenAPI v2 document in protobuf, gnostic's `openapi.v2.Document`
/// (github.com/google/gnostic-models openapiv2/OpenAPIv2.proto), which is the form kubectl
/// before 1.29 reads (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`). Written
/// from the JSON document, so the two forms cannot disagree; vendor extensions and defaults
/// are gnostic `Any`s holding YAML, and JSON is YAML.
enum OpenAPIProtobuf {
    /// The media type of OpenAPI v2 in protobuf.
    static let v2MediaType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

    /// `document` (an `OpenAPIV2` document) as an `openapi.v2.Document`.
    static func v2(_ document: JSONValue) -> [UInt8] {
        var writer = ProtobufWriter()
        if let swagger = document["swagger"]?.stringValue { writer.string(1, swagger) }
        if let info = document["info"] {
            writer.message(2) { out in
                if let title = info["title"]?.stringValue { out.string(1, title) }
                if let version = info["version"]?.stringValue { out.string(2, version) }
            }
        }
        if case .object(let paths)? = document["paths"] {
            writer.message(8) { out in
                for path in paths.keys.sorted() {
                    guard let item = paths[path] else { continue }
                    out.message(2) { named in
                        named.string(1, path)
                        named.message(2) { pathItem(&$0, item) }
                    }
                }
            }
        }
        if case .object(let definitions)? = document["definitions"] {
            writer.message(9) { out in
                for name in definitions.keys.sorted() {
                    guard let definition = definitions[name] else { continue }
                    out.message(1) { named in
                        named.string(1, name)
                        named.message(2) { schema(&$0, definition) }
                    }
                }
            }
        }
        return writer.bytes
    }

    /// PathItem: its operations by method.
    private static func pathItem(_ out: inout ProtobufWriter, _ item: JSONValue) {
        let fields = ["get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8]
        for (method, number) in fields.sorted(by: { $0.value < $1.value }) {
            guard let operation = item[method] else { continue }
            out.message(number) { self.operation(&$0, operation) }
        }
    }

    private static func operation(_ out: inout ProtobufWriter, _ operation: JSONValue) {
        strings(&out, 1, operation["tags"])
        if let description = operation["description"]?.stringValue { out.string(3, description) }
        if let id = operation["operationId"]?.stringValue { out.string(5, id) }
        strings(&out, 6, operation["produces"])
        strings(&out, 7, operation["consumes"])
        if case .array(let parameters)? = operation["parameters"] {
            for parameter in parameters {
                out.message(8) { item in item.message(1) { self.parameter(&$0, parameter) } }
            }
        }
        if case .object(let responses)? = operation["responses"] {
            out.message(9) { out in
                for code in responses.keys.sorted() {
                    guard let response = responses[code] else { continue }
                    out.message(1) { named in
                        named.string(1, code)
                        named.message(2) { value in
                            value.message(1) { out in
                                if let description = response["description"]?.stringValue { out.string(1, description) }
                                if let schema = response["schema"] {
                                    out.message(2) { item in item.message(1) { self.schema(&$0, schema) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        strings(&out, 10, operation["schemes"])
        extensions(&out, 13, operation)
    }

    /// Parameter: a BodyParameter, or a NonBodyParameter's query or path sub-schema.
    private static func parameter(_ out: inout ProtobufWriter, _ parameter: JSONValue) {
        let location = parameter["in"]?.stringValue ?? ""
        if location == "body" {
            out.message(1) { body in
                if let description = parameter["description"]?.stringValue { body.string(1, description) }
                if let name = parameter["name"]?.stringValue { body.string(2, name) }
                body.string(3, location)
                if parameter["required"] == .bool(true) { body.bool(4, true) }
                if let schema = parameter["schema"] { body.message(5) { self.schema(&$0, schema) } }
            }
            return
        }
        // QueryParameterSubSchema (3) and PathParameterSubSchema (4) number their fields alike
        // up to `name`; `type` and `unique_items` differ by one (the query one has allow_empty_value).
        let query = location != "path"
        out.message(2) { nonBody in
            nonBody.message(query ? 3 : 4) { sub in
                if parameter["required"] == .bool(true) { sub.bool(1, true) }
                sub.string(2, location)
                if let description = parameter["description"]?.stringValue { sub.string(3, description) }
                if let name = parameter["name"]?.stringValue { sub.string(4, name) }
                if let type = parameter["type"]?.stringValue { sub.string(query ? 6 : 5, type) }
                if parameter["uniqueItems"] == .bool(true) { sub.bool(query ? 20 : 19, true) }
            }
        }
    }

    /// Schema, recursively.
    static func schema(_ out: inout ProtobufWriter, _ schema: JSONValue) {
        if let reference = schema["$ref"]?.stringValue { out.string(1, reference) }
        if let format = schema["format"]?.stringValue { out.string(2, format) }
        if let description = schema["description"]?.stringValue { out.string(4, description) }
        if let value = schema["default"] { out.message(5) { $0.string(2, yaml(value)) } }
        strings(&out, 19, schema["required"])
        if case .array(let values)? = schema["enum"] {
            for value in values { out.message(20) { $0.string(2, yaml(value)) } }
        }
        if let additional = schema["additionalProperties"] {
            out.message(21) { item in item.message(1) { self.schema(&$0, additional) } }
        }
        if let type = schema["type"]?.stringValue { out.message(22) { $0.string(1, type) } }
        if let items = schema["items"] {
            out.message(23) { item in item.message(1) { self.schema(&$0, items) } }
        }
        if case .array(let all)? = schema["allOf"] {
            for member in all { out.message(24) { self.schema(&$0, member) } }
        }
        if case .object(let properties)? = schema["properties"] {
            out.message(25) { out in
                for name in properties.keys.sorted() {
                    guard let property = properties[name] else { continue }
                    out.message(1) { named in
                        named.string(1, name)
                        named.message(2) { self.schema(&$0, property) }
                    }
                }
            }
        }
        extensions(&out, 31, schema)
    }

    private static func strings(_ out: inout ProtobufWriter, _ field: Int, _ value: JSONValue?) {
        guard case .array(let items)? = value else { return }
        for case .string(let text) in items { out.string(field, text) }
    }

    /// The `x-` members as NamedAny entries (name, Any{yaml}).
    private static func extensions(_ out: inout ProtobufWriter, _ field: Int, _ object: JSONValue) {
        guard case .object(let members) = object else { return }
        for name in members.keys.sorted() where name.hasPrefix("x-") {
            guard let value = members[name] else { continue }
            out.message(field) { named in
                named.string(1, name)
                named.message(2) { $0.string(2, yaml(value)) }
            }
        }
    }

    /// A JSON value as YAML text (JSON is YAML's flow style), with the newline gnostic writes.
    private static func yaml(_ value: JSONValue) -> String {
        String(decoding: JSONSerializer.serialize(value), as: UTF8.self) + "\n"
    }
}
