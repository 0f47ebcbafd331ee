import APIMachinery
import APIRegistry
import KubeAPI

/// `GET /openapi/v3/api/v1` and `/openapi/v3/apis/<group>/<version>`: one OpenAPI 3.0 document
/// per group-version, as kube-apiserver's (api/openapi-spec/v3/*.json): the operations of its
/// paths with request bodies and responses naming their schemas, and `components.schemas`
/// with what they reference. kubectl 1.27+ reads these for `explain`, and 1.29+ reads the
/// PATCH operations' `fieldValidation` parameter to leave validation to the server.
enum OpenAPIV3 {
    /// The path of a group/version in the index: `api/v1`, `apis/apps/v1`.
    static func indexPath(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    /// The document of `group`/`version`; nil when the group-version is not served.
    static func document(registry: ResourceRegistry, group: String, version: String, gitVersion: String) -> JSONValue? {
        let operations = OpenAPIOperation.all(registry, group: group, version: version)
        guard !operations.isEmpty else { return nil }
        let schemas = OpenAPISchemas(flavor: .v3, registry: registry)
        var paths: [String: [String: JSONValue]] = [:]
        for operation in operations {
            paths[operation.path, default: [:]][operation.method] = render(operation, schemas)
        }
        let messages = OpenAPISchemas.closure(OpenAPIV2.referenced(by: operations) + Array(OpenAPISchemas.sharedKinds))
        return .object([
            "openapi": .string("3.0.0"),
            "info": .object(["title": .string("Kubernetes"), "version": .string(gitVersion)]),
            "paths": .object(paths.mapValues { .object($0) }),
            "components": .object([
                "schemas": .object(schemas.definitions(messages)),
                "securitySchemes": .object(["BearerToken": .object([
                    "type": .string("apiKey"), "name": .string("authorization"), "in": .string("header"),
                    "description": .string("Bearer Token authentication"),
                ])]),
            ]),
            "security": .array([.object(["BearerToken": .array([])])]),
        ])
    }

    private static func render(_ operation: OpenAPIOperation, _ schemas: OpenAPISchemas) -> JSONValue {
        let parameters: [JSONValue] = operation.parameters.map { parameter in
            var object: [String: JSONValue] = [
                "name": .string(parameter.name), "in": .string(parameter.location),
                "schema": .object(["type": .string(parameter.type), "uniqueItems": .bool(true)]),
            ]
            if !parameter.description.isEmpty { object["description"] = .string(parameter.description) }
            if parameter.required { object["required"] = .bool(true) }
            return .object(object)
        }
        var responses: [String: JSONValue] = ["401": .object(["description": .string("Unauthorized")])]
        for (code, message) in operation.responses {
            var response: [String: JSONValue] = ["description": .string(OpenAPIV2.statusDescriptions[code] ?? code)]
            if let schema = schemas.reference(message) {
                var types = operation.produces
                if operation.action == "list" { types += ["application/json;stream=watch"] }
                response["content"] = .object(Dictionary(types.map { ($0, JSONValue.object(["schema": schema])) }) { first, _ in first })
            }
            responses[code] = .object(response)
        }
        var object: [String: JSONValue] = [
            "operationId": .string(operation.operationID),
            "description": .string(OpenAPIV2.description(operation)),
            "tags": .array([.string(operation.tag)]),
            "parameters": .array(parameters),
            "responses": .object(responses),
            "x-kubernetes-action": .string(operation.action),
            "x-kubernetes-group-version-kind": .object([
                "group": .string(operation.group), "kind": .string(operation.kind), "version": .string(operation.version),
            ]),
        ]
        if let body = operation.body {
            let schema = schemas.reference(body) ?? OpenAPISchemas.typed("object")
            object["requestBody"] = .object([
                "content": .object(Dictionary(operation.consumes.map { ($0, JSONValue.object(["schema": schema])) }) { first, _ in first }),
                "required": .bool(operation.action != "delete" && operation.action != "deletecollection"),
            ])
        }
        return .object(object)
    }
}
