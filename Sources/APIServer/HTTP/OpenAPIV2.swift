import APIMachinery
import APIRegistry
import KubeAPI

/// `GET /openapi/v2`: one Swagger 2.0 document for every served resource, as kube-apiserver's
/// (api/openapi-spec/swagger.json): the operations of each path, and `definitions` with a
/// schema for every kind, its list, the subresource kinds and what they reference. kubectl
/// reads it (in protobuf, `OpenAPIProtobuf`) for `explain` before 1.27, for client-side
/// validation (`--validate=true` on 1.20), and for strategic-merge patch keys in `apply`
/// and `diff`; kubectl 1.27's fieldValidation check reads the PATCH operations' parameters.
enum OpenAPIV2 {
    static func document(registry: ResourceRegistry, gitVersion: String) -> JSONValue {
        let schemas = OpenAPISchemas(flavor: .v2, registry: registry)
        let operations = OpenAPIOperation.all(registry)
        var paths: [String: [String: JSONValue]] = [:]
        for operation in operations {
            paths[operation.path, default: [:]][operation.method] = render(operation, schemas)
        }
        let messages = OpenAPISchemas.closure(referenced(by: operations) + Array(OpenAPISchemas.sharedKinds))
        return .object([
            "swagger": .string("2.0"),
            "info": .object(["title": .string("Kubernetes"), "version": .string(gitVersion)]),
            "paths": .object(paths.mapValues { .object($0) }),
            "definitions": .object(schemas.definitions(messages)),
        ])
    }

    /// The messages operations name as bodies and responses.
    static func referenced(by operations: [OpenAPIOperation]) -> [String] {
        var names: [String] = []
        for operation in operations {
            if let body = operation.body { names.append(body) }
            names += operation.responses.map(\.message)
        }
        return names
    }

    static let statusDescriptions = ["200": "OK", "201": "Created", "202": "Accepted", "401": "Unauthorized"]

    private static func render(_ operation: OpenAPIOperation, _ schemas: OpenAPISchemas) -> JSONValue {
        var parameters: [JSONValue] = operation.parameters.map { parameter in
            var object: [String: JSONValue] = [
                "name": .string(parameter.name), "in": .string(parameter.location), "type": .string(parameter.type),
                "uniqueItems": .bool(true),
            ]
            if !parameter.description.isEmpty { object["description"] = .string(parameter.description) }
            if parameter.required { object["required"] = .bool(true) }
            return .object(object)
        }
        if let body = operation.body {
            var parameter: [String: JSONValue] = ["name": .string("body"), "in": .string("body")]
            // Upstream's DELETE bodies (DeleteOptions) are optional.
            if operation.action != "delete" && operation.action != "deletecollection" { parameter["required"] = .bool(true) }
            parameter["schema"] = schemas.reference(body) ?? OpenAPISchemas.typed("object")
            parameters.insert(.object(parameter), at: 0)
        }
        var responses: [String: JSONValue] = ["401": .object(["description": .string("Unauthorized")])]
        for (code, message) in operation.responses {
            var response: [String: JSONValue] = ["description": .string(statusDescriptions[code] ?? code)]
            if let schema = schemas.reference(message) { response["schema"] = schema }
            responses[code] = .object(response)
        }
        var object: [String: JSONValue] = [
            "operationId": .string(operation.operationID),
            "description": .string(description(operation)),
            "tags": .array([.string(operation.tag)]),
            "schemes": .array([.string("https")]),
            "parameters": .array(parameters),
            "produces": .array(operation.produces.map { .string($0) }),
            "responses": .object(responses),
            "x-kubernetes-action": .string(operation.action),
            "x-kubernetes-group-version-kind": .object([
                "group": .string(operation.group), "kind": .string(operation.kind), "version": .string(operation.version),
            ]),
        ]
        if !operation.consumes.isEmpty { object["consumes"] = .array(operation.consumes.map { .string($0) }) }
        return .object(object)
    }

    /// Upstream's wording: "read the specified Pod", "list or watch objects of kind Pod".
    static func description(_ operation: OpenAPIOperation) -> String {
        let subresource = ["status", "scale", "ephemeralcontainers"].first { operation.path.hasSuffix("/" + $0) }.map { $0 + " of " } ?? ""
        switch operation.action {
        case "list": return "list or watch objects of kind \(operation.kind)"
        case "post": return "create a \(operation.kind)"
        case "get": return "read \(subresource)the specified \(operation.kind)"
        case "put": return "replace \(subresource)the specified \(operation.kind)"
        case "patch": return "partially update \(subresource)the specified \(operation.kind)"
        case "delete": return "delete a \(operation.kind)"
        case "deletecollection": return "delete collection of \(operation.kind)"
        default: return operation.action
        }
    }
}
