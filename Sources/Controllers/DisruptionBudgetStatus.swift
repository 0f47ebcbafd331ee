import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// A failure of the disruption controller's sync, whose text becomes the SyncFailed
/// condition's message (upstream's `failSafe`).
struct DisruptionSyncError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// What the disruption controller computes for one PodDisruptionBudget
/// (pkg/controller/disruption/disruption.go `trySync`, `getExpectedPodCount`,
/// `buildDisruptedPodMap`, `countHealthyPods` and `updatePdbStatus`), apart from the informers,
/// so it can be checked without a cluster.
struct DisruptionBudgetStatus: Equatable {
    var expectedPods: Int64 = 0
    var desiredHealthy: Int64 = 0
    var currentHealthy: Int64 = 0
    /// Evictions not yet seen through: pod name → when (RFC 3339).
    var disruptedPods: [String: String] = [:]
    /// Pods the budget selects that no controller owns (a percentage cannot count them).
    var unmanagedPods: [String] = []
    /// When an entry of `disruptedPods` expires, for a recheck then.
    var recheckAt: Date?

    /// `DeletionTimeout`: an eviction whose pod still exists after this is no longer counted.
    static let deletionTimeout: TimeInterval = 120

    /// `currentHealthy - desiredHealthy`, never negative, and 0 while no pods are expected (a
    /// budget whose first pods appear before the controller looked stays safe).
    var disruptionsAllowed: Int64 {
        let allowed = currentHealthy - desiredHealthy
        return expectedPods <= 0 || allowed <= 0 ? 0 : allowed
    }

    /// The pods of `namespace` the budget selects (`getPodsForPdb`): in policy/v1 a null
    /// selector selects none and `{}` every pod.
    static func selectedPods(_ budget: KubeObject, from pods: [KubeObject]) throws(APIError) -> [KubeObject] {
        guard let value = budget.value(at: ["spec", "selector"]), value != .null else { return [] }
        let selector = try LabelSelector(object: value)
        return pods.filter { $0.namespace == budget.namespace && selector.matches($0.labels) }
    }

    /// Computes the counts. `scale` gives the controller of a pod with a controller reference
    /// and its desired replicas (`finders`: Deployment through its ReplicaSet, ReplicaSet,
    /// StatefulSet, ReplicationController), nil when none is found.
    init(budget: KubeObject, pods: [KubeObject], now: Date,
         scale: (KubeObject) -> (uid: String, replicas: Int64)?) throws(DisruptionSyncError) {
        let minAvailable = Self.intOrString(budget.value(at: ["spec", "minAvailable"]))
        let maxUnavailable = Self.intOrString(budget.value(at: ["spec", "maxUnavailable"]))
        if let maxUnavailable {
            expectedPods = try Self.expectedScale(pods: pods, unmanaged: &unmanagedPods, scale: scale)
            let unavailable = try Self.scaled(maxUnavailable, total: expectedPods)
            desiredHealthy = max(expectedPods - unavailable, 0)
        } else if let minAvailable {
            switch minAvailable {
            case .int(let count):
                desiredHealthy = Int64(count)
                expectedPods = Int64(pods.count)
            case .string:
                expectedPods = try Self.expectedScale(pods: pods, unmanaged: &unmanagedPods, scale: scale)
                desiredHealthy = try Self.scaled(minAvailable, total: expectedPods)
            }
        }
        // buildDisruptedPodMap: entries kept for pods that exist, are not being deleted and
        // whose eviction is less than two minutes old.
        let recorded = budget.value(at: ["status", "disruptedPods"])?.objectValue ?? [:]
        for pod in pods where pod.deletionTimestamp == nil {
            guard let name = pod.name, let text = recorded[name]?.stringValue, let time = Time(rfc3339: text) else { continue }
            let expiry = time.date.addingTimeInterval(Self.deletionTimeout)
            if expiry > now {
                disruptedPods[name] = text
                if recheckAt.map({ expiry < $0 }) ?? true { recheckAt = expiry }
            }
        }
        // countHealthyPods: Ready pods not being deleted nor recently evicted.
        for pod in pods where pod.deletionTimestamp == nil && disruptedPods[pod.name ?? ""] == nil {
            if ReplicaSetPods.isReady(pod) { currentHealthy += 1 }
        }
    }

    /// `getExpectedScale`: the sum of the desired replicas of the pods' controllers, each
    /// counted once; pods without a controller are listed in `unmanaged` and add nothing; a
    /// pod whose controller is not found is an error.
    static func expectedScale(pods: [KubeObject], unmanaged: inout [String],
                              scale: (KubeObject) -> (uid: String, replicas: Int64)?) throws(DisruptionSyncError) -> Int64 {
        var scales: [String: Int64] = [:]
        for pod in pods {
            guard pod.controllerRef != nil else {
                unmanaged.append(pod.name ?? "")
                continue
            }
            guard let found = scale(pod) else {
                throw DisruptionSyncError(message: "found no controllers for pod \(ObjectValidation.quote(pod.name ?? ""))")
            }
            scales[found.uid] = found.replicas
        }
        return scales.values.reduce(0, +)
    }

    /// `intstr.GetScaledValueFromIntOrPercent` rounding up.
    static func scaled(_ value: IntOrString, total: Int64) throws(DisruptionSyncError) -> Int64 {
        guard let result = value.scaled(total: Int(total), roundUp: true) else {
            throw DisruptionSyncError(message: "invalid value for IntOrString: invalid value \(ObjectValidation.quote(value.description)): not a percentage")
        }
        return Int64(result)
    }

    static func intOrString(_ value: JSONValue?) -> IntOrString? {
        guard let value, value != .null else { return nil }
        if let number = value.intValue, let small = Int32(exactly: number) { return .int(small) }
        return value.stringValue.map(IntOrString.string)
    }

    /// The status to write (`updatePdbStatus`), or nil when the stored one already says it.
    func status(for budget: KubeObject, now: Date) -> JSONValue? {
        let old = budget.value(at: ["status"]) ?? .object([:])
        let generation = budget.generation ?? 0
        let conditions = old["conditions"]?.arrayValue ?? []
        let oldDisrupted = (old["disruptedPods"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        if old["currentHealthy"]?.intValue ?? 0 == currentHealthy, old["desiredHealthy"]?.intValue ?? 0 == desiredHealthy,
           old["expectedPods"]?.intValue ?? 0 == expectedPods, old["disruptionsAllowed"]?.intValue ?? 0 == disruptionsAllowed,
           oldDisrupted == disruptedPods, old["observedGeneration"]?.intValue ?? 0 == generation,
           DisruptionConditions.upToDate(conditions, disruptionsAllowed: disruptionsAllowed, observedGeneration: generation, generation: generation) {
            return nil
        }
        var status: [String: JSONValue] = [
            "disruptionsAllowed": .int(disruptionsAllowed), "currentHealthy": .int(currentHealthy),
            "desiredHealthy": .int(desiredHealthy), "expectedPods": .int(expectedPods),
        ]
        if generation != 0 { status["observedGeneration"] = .int(generation) }
        if !disruptedPods.isEmpty { status["disruptedPods"] = .object(disruptedPods.mapValues { .string($0) }) }
        let allowed = disruptionsAllowed > 0
        status["conditions"] = .array(DisruptionConditions.setAllowed(
            conditions, allowed: allowed, reason: allowed ? PodDisruptionBudget.sufficientPodsReason : PodDisruptionBudget.insufficientPodsReason,
            message: "", observedGeneration: generation, now: Time(now).description))
        return .object(status)
    }

    /// `failSafe`: no disruptions, and the reason why in a False SyncFailed condition.
    static func failSafe(_ budget: KubeObject, message: String, now: Date) -> JSONValue {
        var status = budget.value(at: ["status"])?.objectValue ?? [:]
        status["disruptionsAllowed"] = .int(0)
        for key in ["currentHealthy", "desiredHealthy", "expectedPods"] where status[key] == nil { status[key] = .int(0) }
        status["conditions"] = .array(DisruptionConditions.setAllowed(
            status["conditions"]?.arrayValue ?? [], allowed: false, reason: PodDisruptionBudget.syncFailedReason, message: message,
            observedGeneration: status["observedGeneration"]?.intValue ?? 0, now: Time(now).description))
        return .object(status)
    }
}
