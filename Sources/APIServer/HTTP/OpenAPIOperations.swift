import APIMachinery
import APIRegistry

/// The REST operations of the served resources, in the terms both OpenAPI documents share
/// (kube-apiserver's endpoints installer names them: `listCoreV1NamespacedPod`,
/// `patchAppsV1NamespacedDeploymentScale`, ...). `OpenAPIV2` and `OpenAPIV3` render them.
struct OpenAPIOperation: Sendable {
    struct Parameter: Sendable {
        let name: String
        /// `path` or `query`.
        let location: String
        /// `string`, `boolean` or `integer`.
        let type: String
        let description: String
        var required: Bool { location == "path" }
    }

    let path: String
    /// `get`, `post`, `put`, `patch` or `delete`.
    let method: String
    let operationID: String
    /// `x-kubernetes-action`: get, list, post, put, patch, delete, deletecollection.
    let action: String
    let group: String
    let version: String
    let kind: String
    /// The tag upstream gives the group-version (`core_v1`, `apps_v1`, `networking_v1`).
    let tag: String
    let parameters: [Parameter]
    /// The message of the request body, if any (`Pod`, `Patch`, `DeleteOptions`).
    let body: String?
    /// Status code → message of the response body.
    let responses: [(code: String, message: String)]
    /// The media types the body may take.
    let consumes: [String]
    /// The media types the response may take.
    let produces: [String]

    /// The patch media types this server applies (server-side apply's is not served yet).
    static let patchTypes = [MediaTypes.jsonPatch, MediaTypes.mergePatch, MediaTypes.strategicMergePatch]
    static let responseTypes = [MediaTypes.json, MediaTypes.yaml]

    /// `networking.k8s.io` → `Networking`, `` → `Core`, as upstream's operation IDs spell groups.
    static func groupName(_ group: String) -> String {
        guard !group.isEmpty else { return "Core" }
        let trimmed = group.hasSuffix(".k8s.io") ? String(group.dropLast(7)) : group
        return trimmed.split(separator: ".").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// `core_v1`, `apps_v1`, `networking_v1`.
    static func tag(group: String, version: String) -> String {
        let name = groupName(group)
        return name.prefix(1).lowercased() + name.dropFirst() + "_" + version
    }

    private static func parameters(_ names: [String]) -> [Parameter] {
        names.map { name in
            Parameter(name: name, location: "query", type: queryTypes[name] ?? "string", description: queryDescriptions[name] ?? "")
        }
    }

    private static let queryTypes = ["force": "boolean", "watch": "boolean", "allowWatchBookmarks": "boolean", "limit": "integer",
                                     "timeoutSeconds": "integer", "gracePeriodSeconds": "integer", "orphanDependents": "boolean"]
    private static let queryDescriptions = [
        "dryRun": "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
        "fieldManager": "fieldManager is a name associated with the actor or entity that is making these changes.",
        "fieldValidation": "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore, - Warn (the default), - Strict.",
        "force": "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people.",
        "labelSelector": "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
        "fieldSelector": "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
        "limit": "limit is a maximum number of responses to return for a list call.",
        "continue": "The continue option should be set when retrieving more results from the server.",
        "resourceVersion": "resourceVersion sets a constraint on what resource versions a request may be served from.",
        "watch": "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
        "allowWatchBookmarks": "allowWatchBookmarks requests watch events with type \"BOOKMARK\".",
        "timeoutSeconds": "Timeout for the list/watch call.",
        "gracePeriodSeconds": "The duration in seconds before the object should be deleted.",
        "propagationPolicy": "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'.",
        "orphanDependents": "Deprecated: please use the PropagationPolicy.",
        "pretty": "If 'true', then the output is pretty printed.",
    ]

    private static let listQuery = ["allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "pretty",
                                    "resourceVersion", "timeoutSeconds", "watch"]
    private static let writeQuery = ["dryRun", "fieldManager", "fieldValidation", "pretty"]
    private static let deleteQuery = ["dryRun", "gracePeriodSeconds", "orphanDependents", "pretty", "propagationPolicy"]

    /// The operations of every resource of `registry` in `group`/`version` (all when nil).
    static func all(_ registry: ResourceRegistry, group: String? = nil, version: String? = nil) -> [OpenAPIOperation] {
        registry.resources.filter { group == nil || ($0.group == group && $0.version == version) }.flatMap(operations(of:))
    }

    /// The operations of one resource: its collection, its items and its subresources.
    static func operations(of resource: APIResource) -> [OpenAPIOperation] {
        let root = resource.group.isEmpty ? "/api/\(resource.version)" : "/apis/\(resource.group)/\(resource.version)"
        let collection = root + (resource.namespaced ? "/namespaces/{namespace}/" : "/") + resource.name
        let item = collection + "/{name}"
        let scope = resource.namespaced ? "Namespaced" : ""
        let gv = groupName(resource.group) + resource.version.prefix(1).uppercased() + resource.version.dropFirst()
        let message = TypeSchema.messageName(group: resource.group, kind: resource.kind)
        let namespace = resource.namespaced ? [Parameter(name: "namespace", location: "path", type: "string",
                                                         description: "object name and auth scope, such as for teams and projects")] : []
        let name = [Parameter(name: "name", location: "path", type: "string", description: "name of the \(resource.kind)")]
        func operation(_ path: String, _ method: String, _ verb: String, _ suffix: String, _ action: String, _ parameters: [Parameter],
                       body: String?, responses: [(String, String)], kind: String? = nil, group: String? = nil, version: String? = nil,
                       consumes: [String] = ["*/*"]) -> OpenAPIOperation {
            OpenAPIOperation(path: path, method: method, operationID: verb + gv + scope + resource.kind + suffix, action: action,
                             group: group ?? resource.group, version: version ?? resource.version, kind: kind ?? resource.kind,
                             tag: tag(group: resource.group, version: resource.version), parameters: parameters, body: body,
                             responses: responses.map { (code: $0.0, message: $0.1) }, consumes: body == nil ? [] : consumes,
                             produces: responseTypes)
        }
        // Reviews are created and answered, never stored (TokenReview).
        if resource.verbs == ["create"] {
            return [operation(collection, "post", "create", "", "post", namespace + parameters(writeQuery), body: message,
                              responses: [("200", message), ("201", message), ("202", message)])]
        }
        var result = [
            operation(collection, "get", "list", "", "list", namespace + parameters(listQuery), body: nil, responses: [("200", message + "List")]),
            operation(collection, "post", "create", "", "post", namespace + parameters(writeQuery), body: message,
                      responses: [("200", message), ("201", message), ("202", message)]),
            operation(item, "get", "read", "", "get", name + namespace + parameters(["pretty"]), body: nil, responses: [("200", message)]),
            operation(item, "put", "replace", "", "put", name + namespace + parameters(writeQuery), body: message,
                      responses: [("200", message), ("201", message)]),
            operation(item, "patch", "patch", "", "patch", name + namespace + parameters(writeQuery + ["force"]), body: "Patch",
                      responses: [("200", message), ("201", message)], consumes: patchTypes),
            operation(item, "delete", "delete", "", "delete", name + namespace + parameters(deleteQuery), body: "DeleteOptions",
                      responses: [("200", "Status"), ("202", "Status")]),
        ]
        if resource.verbs.contains("deletecollection"), !(resource.group.isEmpty && resource.name == "namespaces") {
            result.append(OpenAPIOperation(path: collection, method: "delete", operationID: "delete" + gv + "Collection" + scope + resource.kind,
                                           action: "deletecollection", group: resource.group, version: resource.version, kind: resource.kind,
                                           tag: tag(group: resource.group, version: resource.version),
                                           parameters: namespace + parameters(deleteQuery + listQuery.filter { $0 != "watch" && $0 != "pretty" }),
                                           body: "DeleteOptions", responses: [("200", "Status")], consumes: ["*/*"], produces: responseTypes))
        }
        if resource.namespaced {
            result.append(OpenAPIOperation(path: root + "/" + resource.name, method: "get",
                                           operationID: "list" + gv + resource.kind + "ForAllNamespaces", action: "list",
                                           group: resource.group, version: resource.version, kind: resource.kind,
                                           tag: tag(group: resource.group, version: resource.version), parameters: parameters(listQuery),
                                           body: nil, responses: [("200", message + "List")], consumes: [], produces: responseTypes))
        }
        for subresource in resource.subresources {
            let path = item + "/" + subresource
            let suffix = subresource.prefix(1).uppercased() + subresource.dropFirst()
            switch subresource {
            case "status", "ephemeralcontainers":
                result += [
                    operation(path, "get", "read", suffix, "get", name + namespace + parameters(["pretty"]), body: nil, responses: [("200", message)]),
                    operation(path, "put", "replace", suffix, "put", name + namespace + parameters(writeQuery), body: message,
                              responses: [("200", message), ("201", message)]),
                    operation(path, "patch", "patch", suffix, "patch", name + namespace + parameters(writeQuery + ["force"]), body: "Patch",
                              responses: [("200", message), ("201", message)], consumes: patchTypes),
                ]
            case "scale":
                // autoscaling/v1 Scale (kube-apiserver's scale subresources).
                let scale = { (method: String, verb: String, action: String, query: [String], body: String?, codes: [String]) in
                    operation(path, method, verb, suffix, action, name + namespace + parameters(query), body: body,
                              responses: codes.map { ($0, "Scale") }, kind: "Scale", group: "autoscaling", version: "v1",
                              consumes: body == "Patch" ? patchTypes : ["*/*"])
                }
                result += [
                    scale("get", "read", "get", ["pretty"], nil, ["200"]),
                    scale("put", "replace", "put", writeQuery, "Scale", ["200", "201"]),
                    scale("patch", "patch", "patch", writeQuery + ["force"], "Patch", ["200", "201"]),
                ]
            case "binding":
                result.append(operation(path, "post", "create", suffix, "post", name + namespace + parameters(writeQuery), body: "Binding",
                                        responses: [("200", "Binding"), ("201", "Binding"), ("202", "Binding")], kind: "Binding"))
            case "token":
                // authentication.k8s.io/v1 TokenRequest on serviceaccounts/token.
                result.append(operation(path, "post", "create", suffix, "post", name + namespace + parameters(writeQuery), body: "TokenRequest",
                                        responses: [("200", "TokenRequest"), ("201", "TokenRequest"), ("202", "TokenRequest")],
                                        kind: "TokenRequest", group: "authentication.k8s.io", version: "v1"))
            default:
                // A subresource this layer does not know yet: it stays out of the documents
                // rather than being described wrongly.
                continue
            }
        }
        return result
    }
}
