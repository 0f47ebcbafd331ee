import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// A StatefulSet's status from its pods (`computeReplicaStatus`, `completeRollingUpdate` and
/// the revision fields of `updateStatefulSet` in pkg/controller/statefulset/stateful_set_control.go).
struct StatefulSetStatus {
    var replicas: Int64 = 0
    var readyReplicas: Int64 = 0
    var availableReplicas: Int64 = 0
    var currentReplicas: Int64 = 0
    var updatedReplicas: Int64 = 0
    var currentRevision: String
    var updateRevision: String
    var collisionCount: Int64
    var observedGeneration: Int64

    init(set: KubeObject, pods: [KubeObject], current: String, update: String, collisionCount: Int64, now: Date) {
        currentRevision = current
        updateRevision = update
        self.collisionCount = collisionCount
        observedGeneration = set.int(at: ["metadata", "generation"], default: 1)
        let minReady = set.int(at: ["spec", "minReadySeconds"])
        for pod in pods {
            replicas += 1
            if StatefulSetPods.isRunningAndReady(pod) {
                readyReplicas += 1
                if StatefulSetPods.isRunningAndAvailable(pod, minReadySeconds: minReady, now: now) { availableReplicas += 1 }
            }
            guard pod.deletionTimestamp == nil else { continue }
            let revision = StatefulSetPods.revision(of: pod)
            if revision == current { currentReplicas += 1 }
            if revision == update { updatedReplicas += 1 }
        }
        // A finished rolling update makes the update revision the current one.
        if set.string(at: ["spec", "updateStrategy", "type"]) == "RollingUpdate",
           updatedReplicas == replicas, readyReplicas == replicas {
            currentReplicas = updatedReplicas
            currentRevision = updateRevision
        }
    }

    /// apps/v1 `StatefulSetStatus` as Go encodes it (`replicas` and `availableReplicas`
    /// always, the other counts only when not zero).
    var json: JSONValue {
        var status: [String: JSONValue] = [
            "replicas": .int(replicas), "availableReplicas": .int(availableReplicas),
            "observedGeneration": .int(observedGeneration), "collisionCount": .int(collisionCount),
        ]
        if readyReplicas > 0 { status["readyReplicas"] = .int(readyReplicas) }
        if currentReplicas > 0 { status["currentReplicas"] = .int(currentReplicas) }
        if updatedReplicas > 0 { status["updatedReplicas"] = .int(updatedReplicas) }
        if !currentRevision.isEmpty { status["currentRevision"] = .string(currentRevision) }
        if !updateRevision.isEmpty { status["updateRevision"] = .string(updateRevision) }
        return .object(status)
    }
}
