import APIMachinery
import KubeAPI

extension ResourceClient {
    /// Writes a workload's `status` through the status subresource of `resource` when it
    /// differs from the one `object` holds (an absent status counts as empty), and returns the
    /// object as stored. The update carries the resourceVersion the status was computed from:
    /// a conflict means someone else wrote in between, so the error goes back to the work queue
    /// and the next sync recomputes from the fresh object instead of overwriting it (as
    /// upstream's `updateStatus` helpers of the Job, CronJob, DaemonSet and Deployment
    /// controllers do).
    @discardableResult
    package func writeStatus(_ status: JSONValue, of object: KubeObject, in resource: ResourceRef) async throws(APIError) -> KubeObject {
        if (object.value(at: ["status"]) ?? .object([:])) == status { return object }
        var updated = object
        updated.set(status, at: ["status"])
        return try await update(resource, updated, subresource: "status")
    }
}
