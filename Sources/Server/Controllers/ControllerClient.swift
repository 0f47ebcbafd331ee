import APIMachinery
import Crypto
import Foundation
import KubeAPI

/// What the in-server controllers use instead of an HTTP client: the same stores, strategies
/// and cross-resource rules as API requests (validation, defaulting, namespaces that must
/// exist), without HTTP or serialization round trips. kube-controller-manager talks to the
/// API server over a client; ours lives in the same process.
struct ControllerClient: Sendable {
    let service: APIService

    func store(_ ref: ResourceRef) throws(APIError) -> ResourceStore {
        try service.store(group: ref.group, name: ref.name)
    }

    func list(_ ref: ResourceRef, namespace: String? = nil, labelSelector: LabelSelector = .everything) async throws(APIError) -> ObjectList {
        var options = ListOptions()
        options.labelSelector = labelSelector
        return try await store(ref).list(namespace: namespace, options: options)
    }

    /// The object, or nil when there is none.
    func get(_ ref: ResourceRef, namespace: String?, name: String) async throws(APIError) -> KubeObject? {
        try await store(ref).find(namespace: namespace, name: name)
    }

    func create(_ ref: ResourceRef, namespace: String?, _ object: KubeObject) async throws(APIError) -> KubeObject {
        let store = try store(ref)
        return try await service.create(object, resource: store.resource, namespace: namespace, context: service.context()).0
    }

    /// Replaces the object (or its `status` with `subresource: "status"`); its resourceVersion
    /// is the precondition, so a controller acting on a stale copy gets a Conflict and retries.
    func update(_ ref: ResourceRef, _ object: KubeObject, subresource: String? = nil) async throws(APIError) -> KubeObject {
        try await store(ref).update(namespace: object.namespace, name: object.name ?? "", object: object,
                                    subresource: subresource, context: service.context()).0
    }

    /// A JSON merge patch (of `status` with `subresource: "status"`).
    func patch(_ ref: ResourceRef, namespace: String?, name: String, _ patch: JSONValue, subresource: String? = nil) async throws(APIError) -> KubeObject {
        try await store(ref).patch(namespace: namespace, name: name, patch: patch, type: .merge, subresource: subresource,
                                   context: service.context()).0
    }

    /// Deletes with the API's rules (graceful pods, finalizers, namespaces); nil when already gone.
    @discardableResult
    func delete(_ ref: ResourceRef, namespace: String?, name: String, gracePeriodSeconds: Int64? = nil,
                propagationPolicy: String? = nil, preconditionUID: String? = nil) async throws(APIError) -> DeleteOutcome? {
        var options = DeleteOptions()
        options.gracePeriodSeconds = gracePeriodSeconds
        options.propagationPolicy = propagationPolicy
        options.preconditionUID = preconditionUID
        let store = try store(ref)
        do {
            return try await service.delete(resource: store.resource, namespace: namespace, name: name, options: options,
                                            context: service.context())
        } catch where error.code == 404 {
            return nil
        }
    }

    func watch(_ ref: ResourceRef, resourceVersion: String?) async throws(APIError) -> ObjectWatch {
        var options = ListOptions()
        options.resourceVersion = resourceVersion
        options.watch = true
        return try await store(ref).watch(namespace: nil, options: options)
    }

    /// Records a core/v1 Event about `object`, as client-go's event recorder does: one Event per
    /// (object, reason, message), whose `count` and `lastTimestamp` grow when it repeats.
    func recordEvent(about object: KubeObject, type: String, reason: String, message: String, component: String) async {
        guard let namespace = object.namespace ?? (object.kind == "Node" || object.kind == "Namespace" ? "default" : nil),
              let name = object.name else { return }
        let now = Time.now().description
        // client-go names events <object>.<unix nanos in hex>; a stable suffix per reason and
        // message lets a repeat find the previous one.
        let digest = SHA256.hash(data: Data("\(object.uid ?? ""):\(reason):\(message)".utf8))
        let eventName = "\(name).\(digest.prefix(8).map { String(format: "%02x", $0) }.joined())"
        do {
            if var existing = try await get(.events, namespace: namespace, name: eventName) {
                existing.set(.int((existing.value(at: ["count"])?.intValue ?? 1) + 1), at: ["count"])
                existing.set(.string(now), at: ["lastTimestamp"])
                _ = try await update(.events, existing)
                return
            }
            var involved: [String: JSONValue] = [
                "kind": .string(object.kind ?? ""), "name": .string(name),
                "apiVersion": .string(object.apiVersion ?? ""),
            ]
            if let uid = object.uid { involved["uid"] = .string(uid) }
            if let ns = object.namespace { involved["namespace"] = .string(ns) }
            if let version = object.resourceVersion { involved["resourceVersion"] = .string(version) }
            let event = KubeObject(fields: [
                "metadata": .object(["name": .string(eventName), "namespace": .string(namespace)]),
                "involvedObject": .object(involved),
                "reason": .string(reason), "message": .string(message), "type": .string(type),
                "source": .object(["component": .string(component)]),
                "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": .int(1),
                "reportingComponent": .string(component), "reportingInstance": .string(""),
            ])
            _ = try await create(.events, namespace: namespace, event)
        } catch {
            // Events are best effort, as in client-go: losing one must not fail the controller.
        }
    }
}
