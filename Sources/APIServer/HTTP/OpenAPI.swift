import APIMachinery
import APIRegistry
import KubeAPI

/// A minimal OpenAPI v3 description: an index of group/versions and, per group/version,
/// the object paths with their operations, each tagged with
/// `x-kubernetes-group-version-kind` and listing the `fieldValidation` and `dryRun`
/// parameters. That is what kubectl 1.29+ reads to decide it can leave field validation to
/// the server (`fieldValidation=Strict`) instead of failing with "failed to download
/// openapi". Schemas are not described yet.
struct OpenAPI: Sendable {
    let registry: ResourceRegistry
    let gitVersion: String

    /// The path of a group/version in the index: `api/v1`, `apis/apps/v1`.
    static func indexPath(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    /// `GET /openapi/v3`.
    var index: JSONValue {
        var paths: [String: JSONValue] = [:]
        for (group, version) in registry.groupVersions {
            let path = Self.indexPath(group: group, version: version)
            // The hash lets clients cache documents; ours change only with the binary.
            paths[path] = .object(["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(Self.hash(gitVersion + path))")])
        }
        return .object(["paths": .object(paths)])
    }

    /// `GET /openapi/v3/api/v1` and `/openapi/v3/apis/<group>/<version>`.
    func document(group: String, version: String) -> JSONValue? {
        let resources = registry.resources.filter { $0.group == group && $0.version == version }
        guard !resources.isEmpty else { return nil }
        var paths: [String: JSONValue] = [:]
        let root = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        for resource in resources {
            let gvk: JSONValue = .object(["group": .string(group), "version": .string(version), "kind": .string(resource.kind)])
            let collection = root + (resource.namespaced ? "/namespaces/{namespace}/" : "/") + resource.name
            let item = collection + "/{name}"
            func operation(_ id: String, _ action: String, _ parameters: [String]) -> JSONValue {
                .object([
                    "operationId": .string(id + resource.kind),
                    "x-kubernetes-action": .string(action),
                    "x-kubernetes-group-version-kind": gvk,
                    "parameters": .array(parameters.map { name in
                        .object(["name": .string(name), "in": .string("query"), "schema": .object(["type": .string("string"), "uniqueItems": .bool(true)])])
                    }),
                    "responses": .object(["200": .object(["description": .string("OK")])]),
                ])
            }
            paths[collection] = .object([
                "get": operation("list", "list", ["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch"]),
                "post": operation("create", "post", ["dryRun", "fieldManager", "fieldValidation"]),
            ])
            paths[item] = .object([
                "get": operation("read", "get", []),
                "put": operation("replace", "put", ["dryRun", "fieldManager", "fieldValidation"]),
                "patch": operation("patch", "patch", ["dryRun", "fieldManager", "fieldValidation", "force"]),
                "delete": operation("delete", "delete", ["dryRun", "gracePeriodSeconds", "propagationPolicy"]),
            ])
        }
        return .object([
            "openapi": .string("3.0.0"),
            "info": .object(["title": .string("Kubernetes"), "version": .string(gitVersion)]),
            "paths": .object(paths),
            "components": .object(["schemas": .object([:])]),
        ])
    }

    /// The media type of OpenAPI v2 in protobuf (gnostic's `openapi_v2.Document`).
    static let v2ProtobufMediaType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

    /// `GET /openapi/v2` in protobuf, the only form kubectl before 1.29 reads. It holds the
    /// object paths with PATCH operations tagged `x-kubernetes-group-version-kind` and a
    /// `fieldValidation` query parameter: kubectl then leaves field validation to the server
    /// instead of failing with "failed to download openapi".
    var v2Protobuf: [UInt8] {
        // Field numbers of gnostic's OpenAPIv2.proto.
        var document = ProtobufWriter()
        document.string(1, "2.0")
        document.message(2) { info in
            info.string(1, "Kubernetes")
            info.string(2, gitVersion)
        }
        document.message(8) { paths in
            for resource in registry.resources {
                let root = resource.group.isEmpty ? "/api/\(resource.version)" : "/apis/\(resource.group)/\(resource.version)"
                let item = root + (resource.namespaced ? "/namespaces/{namespace}/" : "/") + resource.name + "/{name}"
                let gvk = "group: \"\(resource.group)\"\nkind: \(resource.kind)\nversion: \(resource.version)\n"
                paths.message(2) { named in
                    named.string(1, item)
                    named.message(2) { pathItem in
                        pathItem.message(8) { operation in
                            operation.string(5, "patch" + resource.kind)
                            for name in ["dryRun", "fieldManager", "fieldValidation", "force"] {
                                operation.message(8) { parametersItem in
                                    parametersItem.message(1) { parameter in
                                        parameter.message(2) { nonBody in
                                            nonBody.message(3) { query in
                                                query.string(2, "query")
                                                query.string(4, name)
                                                query.string(6, name == "force" ? "boolean" : "string")
                                                query.bool(20, true)
                                            }
                                        }
                                    }
                                }
                            }
                            operation.message(9) { responses in
                                responses.message(1) { code in
                                    code.string(1, "200")
                                    code.message(2) { value in value.message(1) { response in response.string(1, "OK") } }
                                }
                            }
                            operation.message(13) { extensionEntry in
                                extensionEntry.string(1, "x-kubernetes-group-version-kind")
                                extensionEntry.message(2) { any in any.string(2, gvk) }
                            }
                        }
                    }
                }
            }
        }
        return document.bytes
    }

    /// `GET /openapi/v2` as JSON, for clients that do not ask for protobuf.
    var v2JSON: JSONValue {
        var paths: [String: JSONValue] = [:]
        for resource in registry.resources {
            let root = resource.group.isEmpty ? "/api/\(resource.version)" : "/apis/\(resource.group)/\(resource.version)"
            let item = root + (resource.namespaced ? "/namespaces/{namespace}/" : "/") + resource.name + "/{name}"
            paths[item] = .object(["patch": .object([
                "operationId": .string("patch" + resource.kind),
                "parameters": .array(["dryRun", "fieldManager", "fieldValidation", "force"].map {
                    .object(["name": .string($0), "in": .string("query"), "type": .string($0 == "force" ? "boolean" : "string"), "uniqueItems": .bool(true)])
                }),
                "responses": .object(["200": .object(["description": .string("OK")])]),
                "x-kubernetes-group-version-kind": .object(["group": .string(resource.group), "kind": .string(resource.kind),
                                                            "version": .string(resource.version)]),
            ])])
        }
        return .object(["swagger": .string("2.0"), "info": .object(["title": .string("Kubernetes"), "version": .string(gitVersion)]),
                        "paths": .object(paths)])
    }

    /// FNV-1a, printed in hex: a stable cache key, not a security measure.
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf29ce484222325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100000001b3
        }
        return String(value, radix: 16, uppercase: true)
    }
}
