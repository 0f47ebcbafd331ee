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
