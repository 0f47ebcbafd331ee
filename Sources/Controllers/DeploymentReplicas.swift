import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// The arithmetic and annotations of `deploymentutil`: surge and unavailability bounds,
/// replica sums over ReplicaSets, revisions, and the proportions of a scale mid-rollout.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/deployment/util/deployment_util.go
enum DeploymentReplicas {
    static let revisionAnnotation = "deployment.kubernetes.io/revision"
    static let revisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
    static let desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
    static let maxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
    /// Deployment annotations not copied to its ReplicaSets (`skipCopyAnnotation`).
    static let notCopied: Set<String> = [
        FieldManager.lastAppliedAnnotation, revisionAnnotation, revisionHistoryAnnotation,
        desiredReplicasAnnotation, maxReplicasAnnotation, "deprecated.deployment.rollback.to",
    ]

    static func isRollingUpdate(_ deployment: KubeObject) -> Bool {
        deployment.string(at: ["spec", "strategy", "type"]) != "Recreate"
    }

    /// `intstr.GetScaledValueFromIntOrPercent`: an integer, or a percentage of `total`
    /// rounded up or down.
    static func scaled(_ value: JSONValue?, total: Int64, roundUp: Bool, default fallback: String = "25%") -> Int64 {
        let value = value ?? .string(fallback)
        if let number = value.intValue { return number }
        guard let text = value.stringValue else { return 0 }
        guard text.hasSuffix("%"), let percent = Double(text.dropLast()) else { return Int64(text) ?? 0 }
        let exact = percent * Double(total) / 100
        return Int64(roundUp ? exact.rounded(.up) : exact.rounded(.down))
    }

    /// `ResolveFenceposts`: maxSurge rounds up, maxUnavailable down, and both zero would
    /// deadlock a rollout, so unavailable becomes 1.
    static func fenceposts(_ deployment: KubeObject) -> (surge: Int64, unavailable: Int64) {
        let desired = deployment.specReplicas
        let surge = scaled(deployment.value(at: ["spec", "strategy", "rollingUpdate", "maxSurge"]), total: desired, roundUp: true)
        var unavailable = scaled(deployment.value(at: ["spec", "strategy", "rollingUpdate", "maxUnavailable"]), total: desired,
                                 roundUp: false)
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, unavailable)
    }

    /// `MaxSurge`: 0 unless RollingUpdate.
    static func maxSurge(_ deployment: KubeObject) -> Int64 {
        isRollingUpdate(deployment) ? fenceposts(deployment).surge : 0
    }

    /// `MaxUnavailable`: 0 unless RollingUpdate with replicas, and never above the replicas.
    static func maxUnavailable(_ deployment: KubeObject) -> Int64 {
        let replicas = deployment.specReplicas
        guard isRollingUpdate(deployment), replicas > 0 else { return 0 }
        return min(fenceposts(deployment).unavailable, replicas)
    }

    // MARK: - Sums over ReplicaSets

    /// `GetReplicaCountForReplicaSets`: the sum of `spec.replicas`.
    static func specReplicas(_ replicaSets: [KubeObject]) -> Int64 {
        replicaSets.reduce(0) { $0 + $1.specReplicas }
    }

    /// A sum of a `status` counter (`replicas`, `readyReplicas`, `availableReplicas`).
    static func status(_ key: String, _ replicaSets: [KubeObject]) -> Int64 {
        replicaSets.reduce(0) { $0 + $1.int(at: ["status", key]) }
    }

    /// `FilterActiveReplicaSets`: those with `spec.replicas` above 0.
    static func active(_ replicaSets: [KubeObject]) -> [KubeObject] {
        replicaSets.filter { $0.specReplicas > 0 }
    }

    /// Oldest first, ties by name (`ReplicaSetsByCreationTimestamp`).
    static func byCreation(_ replicaSets: [KubeObject]) -> [KubeObject] {
        replicaSets.sorted { ($0.createdAt, $0.name ?? "") < ($1.createdAt, $1.name ?? "") }
    }

    // MARK: - Revisions

    static func revision(_ object: KubeObject) -> Int64 {
        object.annotations[revisionAnnotation].flatMap { Int64($0) } ?? 0
    }

    static func maxRevision(_ replicaSets: [KubeObject]) -> Int64 {
        replicaSets.map(revision).max() ?? 0
    }

    /// `SetNewReplicaSetAnnotations`: the Deployment's own annotations (but not ours or
    /// kubectl's last-applied), `revision` raised to `newRevision` with the replaced one kept
    /// in `revision-history` (a rollback reusing an old ReplicaSet), and for a ReplicaSet about
    /// to be created the replica annotations. Returns whether anything changed.
    @discardableResult
    static func setNewReplicaSetAnnotations(_ replicaSet: inout KubeObject, deployment: KubeObject, newRevision: Int64,
                                            exists: Bool) -> Bool {
        var annotations = replicaSet.annotations
        let before = annotations
        for (key, value) in deployment.annotations where !notCopied.contains(key) { annotations[key] = value }
        let oldRevisionText = annotations[revisionAnnotation] ?? ""
        let oldRevision = Int64(oldRevisionText) ?? 0
        if !oldRevisionText.isEmpty, Int64(oldRevisionText) == nil { return false }
        if oldRevision < newRevision {
            annotations[revisionAnnotation] = String(newRevision)
            if !oldRevisionText.isEmpty {
                let history = annotations[revisionHistoryAnnotation] ?? ""
                annotations[revisionHistoryAnnotation] = history.isEmpty ? oldRevisionText : history + "," + oldRevisionText
            }
        }
        if !exists {
            annotations[desiredReplicasAnnotation] = String(deployment.specReplicas)
            annotations[maxReplicasAnnotation] = String(deployment.specReplicas + maxSurge(deployment))
        }
        guard annotations != before else { return false }
        replicaSet.set(.object(annotations.mapValues { .string($0) }), at: ["metadata", "annotations"])
        return true
    }

    /// `SetReplicasAnnotations` for a ReplicaSet being scaled; returns whether anything changed.
    @discardableResult
    static func setReplicasAnnotations(_ replicaSet: inout KubeObject, desired: Int64, max: Int64) -> Bool {
        var annotations = replicaSet.annotations
        guard annotations[desiredReplicasAnnotation] != String(desired) || annotations[maxReplicasAnnotation] != String(max) else {
            return false
        }
        annotations[desiredReplicasAnnotation] = String(desired)
        annotations[maxReplicasAnnotation] = String(max)
        replicaSet.set(.object(annotations.mapValues { .string($0) }), at: ["metadata", "annotations"])
        return true
    }

    // MARK: - Proportional scaling

    /// `getReplicaSetFraction`: how much `replicaSet` should grow or shrink when the
    /// Deployment's allowed total changes, in proportion to its share of the previous total
    /// (the `max-replicas` annotation written at the last scale).
    static func fraction(_ replicaSet: KubeObject, deployment: KubeObject) -> Int64 {
        if deployment.specReplicas == 0 { return -replicaSet.specReplicas }
        let allowed = deployment.specReplicas + maxSurge(deployment)
        let annotated = replicaSet.annotations[maxReplicasAnnotation].flatMap { Int64($0) }
            ?? deployment.int(at: ["status", "replicas"])
        guard annotated > 0 else { return 0 }
        let size = (Double(replicaSet.specReplicas * allowed) / Double(annotated)).rounded()
        return Int64(size) - replicaSet.specReplicas
    }

    /// `GetProportion`: the fraction, bounded by what is left to add (or remove).
    static func proportion(_ replicaSet: KubeObject, deployment: KubeObject, toAdd: Int64, added: Int64) -> Int64 {
        guard replicaSet.specReplicas != 0, toAdd != 0, toAdd != added else { return 0 }
        let share = fraction(replicaSet, deployment: deployment)
        let allowed = toAdd - added
        return toAdd > 0 ? min(share, allowed) : max(share, allowed)
    }
}
