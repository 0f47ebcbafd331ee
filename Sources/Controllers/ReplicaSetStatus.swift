import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// A ReplicaSet's (or ReplicationController's: the same fields) `status` as the controller
/// computes it (`calculateStatus`) and writes it through the status subresource
/// (`updateReplicaSetStatus`).
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/replicaset/replica_set_utils.go
enum ReplicaSetStatus {
    /// The status of `replicaSet` owning the active `pods`: counts, observedGeneration, and a
    /// ReplicaFailure condition while creating or deleting fails.
    static func calculate(_ replicaSet: KubeObject, pods: [KubeObject], manageError: ReplicaSetController.ManageError?,
                          now: Date) -> JSONValue {
        let templateLabels = (replicaSet.value(at: ["spec", "template", "metadata", "labels"])?.objectValue ?? [:])
            .compactMapValues(\.stringValue)
        let minReady = replicaSet.int(at: ["spec", "minReadySeconds"])
        let fullyLabeled = pods.filter { pod in templateLabels.allSatisfy { pod.labels[$0.key] == $0.value } }.count
        let ready = pods.filter(ReplicaSetPods.isReady).count
        let available = pods.filter { ReplicaSetPods.isAvailable($0, minReadySeconds: minReady, now: now) }.count

        var conditions = (replicaSet.value(at: ["status", "conditions"])?.arrayValue ?? [])
        let failure = conditions.first { $0["type"]?.stringValue == "ReplicaFailure" }
        if let manageError, failure == nil {
            conditions.append(.object([
                "type": .string("ReplicaFailure"), "status": .string("True"), "reason": .string(manageError.reason),
                "message": .string(manageError.message), "lastTransitionTime": .string(Time(now).description),
            ]))
        } else if manageError == nil, failure != nil {
            conditions.removeAll { $0["type"]?.stringValue == "ReplicaFailure" }
        }
        var status: [String: JSONValue] = [
            "replicas": .int(Int64(pods.count)),
            "fullyLabeledReplicas": .int(Int64(fullyLabeled)),
            "readyReplicas": .int(Int64(ready)),
            "availableReplicas": .int(Int64(available)),
            "observedGeneration": .int(replicaSet.generation ?? 0),
        ]
        if !conditions.isEmpty { status["conditions"] = .array(conditions) }
        return .object(status)
    }

    /// Writes `status` unless the ReplicaSet already has it; on a conflict reads the
    /// ReplicaSet again and retries once, as upstream does. Returns the ReplicaSet as stored.
    static func write(_ status: JSONValue, to replicaSet: KubeObject, resource: ResourceRef = .replicaSets,
                      client: any ResourceClient) async throws(APIError) -> KubeObject {
        var current = replicaSet
        for attempt in 0..<2 {
            if same(current.value(at: ["status"]), status) { return current }
            var updated = current
            updated.set(status, at: ["status"])
            do {
                return try await client.update(resource, updated, subresource: "status")
            } catch where error.code == 409 && attempt == 0 {
                guard let fresh = try await client.get(resource, namespace: replicaSet.namespace, name: replicaSet.name ?? ""),
                      fresh.uid == replicaSet.uid else { return replicaSet }
                current = fresh
            }
        }
        return current
    }

    /// Zero counts are omitted by Kubernetes' serialization; treat absent and 0 alike.
    private static func same(_ old: JSONValue?, _ new: JSONValue) -> Bool {
        let keys = ["replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"]
        for key in keys where (old?[key]?.intValue ?? 0) != (new[key]?.intValue ?? 0) { return false }
        return (old?["conditions"] ?? .null) == (new["conditions"] ?? .null)
    }
}
