import APIMachinery
import KubeAPI

extension ResourceClient {
    /// Makes the object of `resource` what `change` makes of `current` (the stored object, or
    /// nil when there is none): created from `empty` when missing, updated when `change`
    /// altered it, left alone when it did not. The controllers that write one object of a
    /// known name (Endpoints, the cluster DNS and `kubernetes` Services' endpoints) compare
    /// and write through here, so "unchanged" means the same thing for all of them. An
    /// update carries `current`'s resourceVersion: a conflict goes back to the work queue.
    /// Returns whether it wrote.
    @discardableResult
    package func createOrUpdate(_ resource: ResourceRef, current: KubeObject?, empty: @autoclosure () -> KubeObject,
                        _ change: (inout KubeObject) -> Void) async throws(APIError) -> Bool {
        var object = current ?? empty()
        change(&object)
        if let current {
            if object == current { return false }
            _ = try await update(resource, object)
        } else {
            _ = try await create(resource, namespace: object.namespace, object)
        }
        return true
    }
}

extension KubeObject {
    /// An object with nothing but its type, name and `extra` top-level fields, for a
    /// controller to fill in.
    package static func named(_ name: String, namespace: String?, apiVersion: String, kind: String,
                      extra: [String: JSONValue] = [:]) -> KubeObject {
        var metadata: [String: JSONValue] = ["name": .string(name)]
        if let namespace { metadata["namespace"] = .string(namespace) }
        var fields = extra
        fields["apiVersion"] = .string(apiVersion)
        fields["kind"] = .string(kind)
        fields["metadata"] = .object(metadata)
        return KubeObject(fields: fields)
    }
}
