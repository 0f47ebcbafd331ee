import APIMachinery
import KubeAPI

/// The API server's side of the controllers' client seam: every verb goes to the same stores,
/// strategies and cross-resource rules as an HTTP request (validation, defaulting, namespaces
/// that must exist, graceful deletion), without HTTP or serialization round trips.
/// kube-controller-manager talks to kube-apiserver over a client; ours lives in the same
/// process.
package struct InProcessClient: ResourceClient {
    package let service: APIService

    package init(service: APIService) {
        self.service = service
    }

    package var resources: [APIResource] { service.registry.resources }

    package func store(_ ref: ResourceRef) throws(APIError) -> ResourceStore {
        try service.store(group: ref.group, name: ref.name)
    }

    package func list(_ ref: ResourceRef, namespace: String?, options: ListOptions) async throws(APIError) -> ObjectList {
        try await store(ref).list(namespace: namespace, options: options)
    }

    package func get(_ ref: ResourceRef, namespace: String?, name: String) async throws(APIError) -> KubeObject? {
        try await store(ref).find(namespace: namespace, name: name)
    }

    package func create(_ ref: ResourceRef, namespace: String?, _ object: KubeObject) async throws(APIError) -> KubeObject {
        let store = try store(ref)
        return try await service.create(object, resource: store.resource, namespace: namespace, context: service.context()).0
    }

    package func update(_ ref: ResourceRef, _ object: KubeObject, subresource: String?) async throws(APIError) -> KubeObject {
        try await store(ref).update(namespace: object.namespace, name: object.name ?? "", object: object,
                                    subresource: subresource, context: service.context()).0
    }

    package func patch(_ ref: ResourceRef, namespace: String?, name: String, _ patch: JSONValue,
                       subresource: String?) async throws(APIError) -> KubeObject {
        try await store(ref).patch(namespace: namespace, name: name, patch: patch, type: .merge, subresource: subresource,
                                   context: service.context()).0
    }

    package func delete(_ ref: ResourceRef, namespace: String?, name: String,
                        options: DeleteOptions) async throws(APIError) -> DeleteOutcome? {
        let store = try store(ref)
        do {
            return try await service.delete(resource: store.resource, namespace: namespace, name: name, options: options,
                                            context: service.context())
        } catch where error.code == 404 {
            return nil
        }
    }

    package func watch(_ ref: ResourceRef, namespace: String?, options: ListOptions) async throws(APIError) -> ResourceWatch {
        let watch = try await store(ref).watch(namespace: namespace, options: options)
        return ResourceWatch(watch, cancel: { watch.cancel() })
    }

    package func bind(namespace: String?, name: String, binding: KubeObject) async throws(APIError) {
        try await service.bind(namespace: namespace, name: name, binding: binding, context: service.context())
    }
}
