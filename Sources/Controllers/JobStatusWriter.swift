import APIMachinery
import KubeAPI

/// Writes a Job's status through the status subresource when it changed. The update carries
/// the resourceVersion the status was computed from: a conflict means someone else wrote in
/// between, so the error goes back to the work queue and the next sync recomputes from the
/// fresh object instead of overwriting it.
enum JobStatusWriter {
    static func write(_ status: JSONValue, to job: KubeObject, client: any ResourceClient) async throws(APIError) -> KubeObject {
        if (job.value(at: ["status"]) ?? .object([:])) == status { return job }
        var updated = job
        updated.set(status, at: ["status"])
        return try await client.update(.jobs, updated, subresource: "status")
    }
}
