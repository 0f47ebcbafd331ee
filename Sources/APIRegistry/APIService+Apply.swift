import APIMachinery
import KubeAPI

extension APIService {
    /// Server-side apply (`PATCH` with `application/apply-patch+yaml`): `config` applied by
    /// `context.fieldManager` to the object, or creating it when it does not exist (as
    /// kube-apiserver's patch handler does for apply; `admitCreate` then authorizes the object
    /// as a create). Returns the object, warnings, and whether it was created.
    package func apply(_ config: JSONValue, resource: APIResource, namespace: String?, name: String, subresource: String?,
                       force: Bool, context: StrategyContext,
                       admitCreate: (KubeObject) async throws(APIError) -> Void = { _ in }) async throws(APIError) -> (KubeObject, [String], created: Bool) {
        let store = try store(resource)
        let checked = try Self.checkApplyConfiguration(config, resource: resource, namespace: namespace, name: name)
        if subresource == nil, try await store.find(namespace: namespace, name: name) == nil {
            var object = try store.applied(checked, to: nil, namespace: namespace, name: name, subresource: nil, force: force,
                                           context: context)
            // The object is the one the URL names, as the patcher's new object is.
            if object.name == nil { object.name = name }
            guard object.name == name else {
                throw APIError.badRequest("the name of the object (\(object.name ?? "")) does not match the name on the URL (\(name))")
            }
            try await admitCreate(object)
            var creating = context
            creating.managedFieldsApplied = true
            do {
                let (created, warnings) = try await create(object, resource: resource, namespace: namespace, context: creating)
                return (created, warnings, true)
            } catch where error.code == 409 && error.reason == "AlreadyExists" {
                // Created meanwhile: apply to it.
            }
        }
        let (updated, warnings) = try await store.patch(namespace: namespace, name: name, patch: checked, type: .apply(force: force),
                                                        subresource: subresource, context: context)
        return (updated, warnings, false)
    }

    /// Server-side apply through the `scale` subresource (client-go's `ApplyScale`): the
    /// configuration is an `autoscaling/v1 Scale`; its `spec.replicas` is applied to the
    /// object's `spec.replicas` by `context.fieldManager` with `subresource: scale` in
    /// managedFields, so it conflicts with other managers of the replicas as upstream's scale
    /// subresource does (kubernetes/kubernetes#98377, `scaleFieldsMapping`). Returns the Scale.
    package func applyScale(_ config: JSONValue, resource: APIResource, namespace: String?, name: String, force: Bool,
                            context: StrategyContext) async throws(APIError) -> (KubeObject, [String]) {
        let scaleResource = APIResource(group: "autoscaling", version: "v1", name: resource.name, singularName: "scale", kind: "Scale",
                                        namespaced: resource.namespaced)
        let checked = try Self.checkApplyConfiguration(config, resource: scaleResource, namespace: namespace, name: name)
        if let configured = checked["metadata"]?["name"]?.stringValue, configured != name {
            throw APIError.badRequest("the name of the object (\(configured)) does not match the name on the URL (\(name))")
        }
        var parent: [String: JSONValue] = ["apiVersion": .string(resource.groupVersion), "kind": .string(resource.kind),
                                           "metadata": .object(["name": .string(name)])]
        if let replicas = checked["spec"]?["replicas"], replicas != .null {
            _ = try Self.replicas(of: KubeObject(fields: checked.objectValue ?? [:]), name: name)
            parent["spec"] = .object(["replicas": replicas])
        }
        let (updated, warnings) = try await store(resource).patch(namespace: namespace, name: name, patch: .object(parent),
                                                                  type: .apply(force: force), subresource: "scale", context: context)
        return (scale(of: updated), warnings)
    }

    /// The checks of an apply configuration before it is merged: its type must be the
    /// resource's (`versionCheckManager`: "invalid object type"), it may not set managedFields,
    /// and every field must be one of the type's (the typed conversion upstream: "field not
    /// declared in schema", whatever the fieldValidation).
    static func checkApplyConfiguration(_ config: JSONValue, resource: APIResource, namespace: String?,
                                        name: String) throws(APIError) -> JSONValue {
        guard case .object = config else {
            throw APIError.badRequest("the apply patch must be a \(resource.kind) object, not \(config.typeName)")
        }
        let apiVersion = config["apiVersion"]?.stringValue ?? ""
        let kind = config["kind"]?.stringValue ?? ""
        if apiVersion != resource.groupVersion || kind != resource.kind {
            // GroupVersionKind.String(): "apps/v1, Kind=Deployment", "/v1, Kind=Pod".
            let groupVersion = apiVersion.contains("/") ? apiVersion : "/" + apiVersion
            throw APIError.badRequest("invalid object type: \(groupVersion), Kind=\(kind)")
        }
        if let managed = config["metadata"]?["managedFields"], managed != .null {
            throw APIError.badRequest("metadata.managedFields must be nil")
        }
        let prefix = "failed to create typed patch object (\(namespace ?? "")/\(name); \(resource.groupVersion), Kind=\(resource.kind)): "
        let outcome: SchemaValidator.Outcome?
        do {
            outcome = try SchemaValidator.check(config, kind: TypeSchema.messageName(group: resource.group, kind: resource.kind))
        } catch {
            throw APIError.badRequest(prefix + error.description)
        }
        guard let outcome else { return config }
        if let unknown = outcome.unknownFields.first {
            // SchemaValidator names list elements by index (`spec.containers[0].foo`).
            throw APIError.badRequest(prefix + ".\(unknown): field not declared in schema")
        }
        return outcome.value
    }
}
