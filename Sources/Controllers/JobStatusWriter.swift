import APIMachinery
import KubeAPI

/// Writes a Job's status through the status subresource when it changed, retrying once on a
/// conflict with the fresh object (as `ReplicaSetStatus.write` does for ReplicaSets).
enum JobStatusWriter {
    static func write(_ status: JSONValue, to job: KubeObject, client: any ResourceClient) async throws(APIError) -> KubeObject {
        var current = job
        for attempt in 0..<2 {
            if current.value(at: ["status"]) ?? .object([:]) == status { return current }
            var updated = current
            updated.set(status, at: ["status"])
            do {
                return try await client.update(.jobs, updated, subresource: "status")
            } catch where error.code == 409 && attempt == 0 {
                guard let fresh = try await client.get(.jobs, namespace: job.namespace, name: job.name ?? ""),
                      fresh.uid == job.uid else { return job }
                current = fresh
            }
        }
        return current
    }
}
