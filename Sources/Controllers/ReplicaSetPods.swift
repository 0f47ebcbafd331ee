import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// Kubernetes' pod predicates used by the workload controllers (`podutil.IsPodReady`,
/// `IsPodAvailable`, `controller.FilterActivePods`) and the order in which a ReplicaSet picks
/// pods to delete (`controller.ActivePodsWithRanks`).
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/controller_utils.go
enum ReplicaSetPods {
    /// Neither finished (Succeeded, Failed) nor being deleted: counts toward replicas.
    static func isActive(_ pod: KubeObject) -> Bool {
        let phase = pod.string(at: ["status", "phase"])
        return phase != "Succeeded" && phase != "Failed" && pod.deletionTimestamp == nil
    }

    static func isReady(_ pod: KubeObject) -> Bool {
        pod.isPodReady
    }

    /// When the pod last became Ready, if it is.
    static func readySince(_ pod: KubeObject) -> Date? {
        guard let condition = pod.podReadyCondition, condition["status"]?.stringValue == "True" else { return nil }
        return condition["lastTransitionTime"]?.stringValue.flatMap(Time.init(rfc3339:))?.date
    }

    /// Ready for at least `minReadySeconds` (a Ready pod without a transition time counts, as
    /// in Kubernetes, only when minReadySeconds is 0).
    static func isAvailable(_ pod: KubeObject, minReadySeconds: Int64, now: Date) -> Bool {
        guard isReady(pod) else { return false }
        if minReadySeconds == 0 { return true }
        guard let since = readySince(pod) else { return false }
        return since.addingTimeInterval(Double(minReadySeconds)) <= now
    }

    static func restarts(_ pod: KubeObject) -> Int64 {
        (pod.value(at: ["status", "containerStatuses"])?.arrayValue ?? []).map { $0["restartCount"]?.intValue ?? 0 }.max() ?? 0
    }

    /// `pods` sorted so that the first are the ones to delete first:
    /// unassigned before assigned, Pending before Unknown before Running, not Ready before
    /// Ready, more pods of the same owner family on the node before fewer (`ranks`), more
    /// recently Ready before longer Ready, more restarts before fewer, newer before older.
    static func deletionOrder(_ pods: [KubeObject], ranks: [String: Int]) -> [KubeObject] {
        func phaseRank(_ pod: KubeObject) -> Int {
            switch pod.string(at: ["status", "phase"]) {
            case "Pending", nil: return 0
            case "Unknown": return 1
            case "Running": return 2
            default: return 3
            }
        }
        return pods.sorted { lhs, rhs in
            let lhsAssigned = !(lhs.string(at: ["spec", "nodeName"]) ?? "").isEmpty
            let rhsAssigned = !(rhs.string(at: ["spec", "nodeName"]) ?? "").isEmpty
            if lhsAssigned != rhsAssigned { return !lhsAssigned }
            if phaseRank(lhs) != phaseRank(rhs) { return phaseRank(lhs) < phaseRank(rhs) }
            if isReady(lhs) != isReady(rhs) { return !isReady(lhs) }
            let lhsRank = ranks[lhs.uid ?? ""] ?? 0, rhsRank = ranks[rhs.uid ?? ""] ?? 0
            if lhsRank != rhsRank { return lhsRank > rhsRank }
            if let lhsReady = readySince(lhs), let rhsReady = readySince(rhs), lhsReady != rhsReady {
                return lhsReady > rhsReady
            }
            if restarts(lhs) != restarts(rhs) { return restarts(lhs) > restarts(rhs) }
            if lhs.createdAt != rhs.createdAt { return lhs.createdAt > rhs.createdAt }
            return (lhs.name ?? "") > (rhs.name ?? "")
        }
    }

    /// `getPodsRankedByRelatedPodsOnSameNode`: for each pod, how many active pods of the
    /// owner family (`related`, this ReplicaSet's and its siblings') share its node, so a
    /// scale-down spreads what remains.
    static func ranks(of pods: [KubeObject], related: [KubeObject]) -> [String: Int] {
        var perNode: [String: Int] = [:]
        for pod in related where isActive(pod) {
            if let node = pod.string(at: ["spec", "nodeName"]), !node.isEmpty { perNode[node, default: 0] += 1 }
        }
        var ranks: [String: Int] = [:]
        for pod in pods {
            guard let node = pod.string(at: ["spec", "nodeName"]), !node.isEmpty else { continue }
            ranks[pod.uid ?? ""] = perNode[node] ?? 0
        }
        return ranks
    }

    /// The pod a ReplicaSet creates from its template (`controller.GetPodFromTemplate`):
    /// template labels, annotations and finalizers, `generateName: <rs>-`, and a controller
    /// reference to the ReplicaSet.
    static func fromTemplate(of replicaSet: KubeObject) -> KubeObject {
        let template = replicaSet.value(at: ["spec", "template"]) ?? .object([:])
        var metadata: [String: JSONValue] = [:]
        for key in ["labels", "annotations", "finalizers"] {
            if let value = template["metadata"]?[key], value != .null { metadata[key] = value }
        }
        let name = replicaSet.name ?? ""
        // Kubernetes drops the dash when "<name>-" would not be a valid prefix; names of
        // ReplicaSets are at most 253 characters, generated names are cut to 58 anyway.
        metadata["generateName"] = .string(name + "-")
        metadata["namespace"] = replicaSet.namespace.map { .string($0) }
        metadata["ownerReferences"] = .array([OwnerRef.controllerRef(to: replicaSet)])
        return KubeObject(fields: [
            "apiVersion": .string("v1"), "kind": .string("Pod"),
            "metadata": .object(metadata),
            "spec": template["spec"] ?? .object([:]),
        ])
    }
}
