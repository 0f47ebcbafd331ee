import KubeAPI

/// The one seam between the controllers and the API server: the verbs of the Kubernetes API on
/// objects held as JSON (client-go's dynamic client, in small).
///
/// Whoever implements it applies the API's own rules (validation, defaulting, namespaces that
/// must exist, graceful deletion, finalizers): today the API server in process
/// (`InProcessClient`, no HTTP or serialization round trips); a client of a remote API server
/// could implement the same protocol, so the controllers would run anywhere.
package protocol ResourceClient: Sendable {
    /// The resources the server serves (its discovery).
    var resources: [APIResource] { get }

    /// A list of `ref` in `namespace` (every namespace when nil) with the list's revision.
    func list(_ ref: ResourceRef, namespace: String?, options: ListOptions) async throws(APIError) -> ObjectList

    /// The object, or nil when there is none.
    func get(_ ref: ResourceRef, namespace: String?, name: String) async throws(APIError) -> KubeObject?

    func create(_ ref: ResourceRef, namespace: String?, _ object: KubeObject) async throws(APIError) -> KubeObject

    /// Replaces the object (or its `status` with `subresource: "status"`); its resourceVersion
    /// is the precondition, so a controller acting on a stale copy gets a Conflict and retries.
    func update(_ ref: ResourceRef, _ object: KubeObject, subresource: String?) async throws(APIError) -> KubeObject

    /// A JSON merge patch (of `status` with `subresource: "status"`).
    func patch(_ ref: ResourceRef, namespace: String?, name: String, _ patch: JSONValue,
               subresource: String?) async throws(APIError) -> KubeObject

    /// Deletes with the API's rules (graceful pods, finalizers, namespaces); nil when already gone.
    func delete(_ ref: ResourceRef, namespace: String?, name: String, options: DeleteOptions) async throws(APIError) -> DeleteOutcome?

    /// Changes of `ref` in `namespace` (every namespace when nil) after `options.resourceVersion`.
    func watch(_ ref: ResourceRef, namespace: String?, options: ListOptions) async throws(APIError) -> ResourceWatch

    /// Assigns a pod to a node (`pods/<name>/binding`), as the scheduler does.
    func bind(namespace: String?, name: String, binding: KubeObject) async throws(APIError)
}

extension ResourceClient {
    /// Every object of `ref` (in `namespace`) matching `labelSelector`.
    package func list(_ ref: ResourceRef, namespace: String? = nil,
                      labelSelector: LabelSelector = .everything) async throws(APIError) -> ObjectList {
        var options = ListOptions()
        options.labelSelector = labelSelector
        return try await list(ref, namespace: namespace, options: options)
    }

    /// Replaces the object through the main resource.
    package func update(_ ref: ResourceRef, _ object: KubeObject) async throws(APIError) -> KubeObject {
        try await update(ref, object, subresource: nil)
    }

    /// A JSON merge patch of the main resource.
    package func patch(_ ref: ResourceRef, namespace: String?, name: String, _ patch: JSONValue) async throws(APIError) -> KubeObject {
        try await self.patch(ref, namespace: namespace, name: name, patch, subresource: nil)
    }

    /// Deletes with the API's rules; nil when already gone.
    @discardableResult
    package func delete(_ ref: ResourceRef, namespace: String?, name: String, gracePeriodSeconds: Int64? = nil,
                        propagationPolicy: String? = nil, preconditionUID: String? = nil) async throws(APIError) -> DeleteOutcome? {
        var options = DeleteOptions()
        options.gracePeriodSeconds = gracePeriodSeconds
        options.propagationPolicy = propagationPolicy
        options.preconditionUID = preconditionUID
        return try await delete(ref, namespace: namespace, name: name, options: options)
    }

    /// Every change of `ref`, in every namespace, after `resourceVersion`.
    package func watch(_ ref: ResourceRef, resourceVersion: String?) async throws(APIError) -> ResourceWatch {
        var options = ListOptions()
        options.resourceVersion = resourceVersion
        options.watch = true
        return try await watch(ref, namespace: nil, options: options)
    }
}
