import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// One sync of one DaemonSet, decided from its nodes and pods without the API: which nodes
/// need a pod, which pods must go (on a node they may not stay on, failed, a second one on a
/// node), which old pods a rolling update replaces now, and the status.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/daemon/daemon_controller.go
/// (`podsShouldBeOnNode`, `updateDaemonSetStatus`) and update.go (`rollingUpdate`).
struct DaemonSetPlan {
    struct NodePods {
        let node: String
        let shouldRun: Bool
        let pods: [KubeObject]
    }

    let hash: String
    let minReadySeconds: Int64
    let now: Date
    let maxUnavailable: JSONValue?
    private(set) var placements: [NodePods] = []
    private(set) var nodesNeedingPods: [String] = []
    private(set) var podsToDelete: [KubeObject] = []

    init(daemonSet: KubeObject, nodes: [KubeObject], pods: [KubeObject], hash: String, now: Date) {
        self.hash = hash
        self.now = now
        minReadySeconds = daemonSet.int(at: ["spec", "minReadySeconds"])
        maxUnavailable = daemonSet.value(at: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"])
        var byNode: [String: [KubeObject]] = [:]
        for pod in pods where pod.deletionTimestamp == nil {
            guard let node = DaemonSetNodes.targetNode(of: pod) else { continue }
            byNode[node, default: []].append(pod)
        }
        for node in nodes.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
            let name = node.name ?? ""
            let onNode = (byNode[name] ?? []).sorted { $0.createdAt < $1.createdAt }
            let (shouldRun, shouldContinueRunning) = DaemonSetNodes.placement(of: daemonSet, on: node)
            placements.append(NodePods(node: name, shouldRun: shouldRun, pods: onNode))
            if shouldRun {
                if onNode.isEmpty {
                    nodesNeedingPods.append(name)
                    continue
                }
                // A failed daemon pod is deleted; its replacement comes with the next sync.
                let failed = onNode.filter { $0.string(at: ["status", "phase"]) == "Failed" }
                podsToDelete += failed
                // More than one running on the node: the oldest stays.
                podsToDelete += onNode.filter { $0.string(at: ["status", "phase"]) != "Failed" }.dropFirst()
            } else if !shouldContinueRunning {
                podsToDelete += onNode
            }
        }
    }

    private func isAvailable(_ pod: KubeObject) -> Bool {
        ReplicaSetPods.isAvailable(pod, minReadySeconds: minReadySeconds, now: now)
    }

    private func isUpdated(_ pod: KubeObject) -> Bool {
        pod.labels[DaemonSetNodes.revisionHashLabel] == hash
    }

    private var desired: Int { placements.filter(\.shouldRun).count }

    /// `maxUnavailable` scaled to the desired count, percentages rounded up, at least 1 when
    /// maxSurge is 0 (validation refuses both 0).
    var maxUnavailableCount: Int {
        let total = desired
        switch maxUnavailable {
        case .some(let value) where value.intValue != nil:
            return Int(value.intValue ?? 1)
        case .some(let value) where value.stringValue?.hasSuffix("%") == true:
            let percent = Double(value.stringValue?.dropLast() ?? "") ?? 0
            return Int((Double(total) * percent / 100).rounded(.up))
        default:
            return 1
        }
    }

    /// `rollingUpdate` without surge: old pods that are not available go at once; available
    /// ones while fewer than maxUnavailable of the desired nodes lack an available pod.
    func oldPodsToReplace() -> [KubeObject] {
        var unavailable = placements.filter { $0.shouldRun && !($0.pods.first.map(isAvailable) ?? false) }.count
        var victims: [KubeObject] = []
        var candidates: [KubeObject] = []
        for placement in placements where placement.shouldRun {
            guard let pod = placement.pods.first, !isUpdated(pod) else { continue }
            if isAvailable(pod) { candidates.append(pod) } else { victims.append(pod) }
        }
        for pod in candidates where unavailable < maxUnavailableCount {
            victims.append(pod)
            unavailable += 1
        }
        return victims
    }

    /// `updateDaemonSetStatus`.
    func status(observedGeneration: Int64) -> JSONValue {
        var current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0
        for placement in placements {
            guard let pod = placement.pods.first else { continue }
            if placement.shouldRun {
                current += 1
                if ReplicaSetPods.isReady(pod) { ready += 1 }
                if isAvailable(pod) { available += 1 }
                if isUpdated(pod) { updated += 1 }
            } else {
                misscheduled += 1
            }
        }
        var status: [String: JSONValue] = [
            "currentNumberScheduled": .int(Int64(current)), "numberMisscheduled": .int(Int64(misscheduled)),
            "desiredNumberScheduled": .int(Int64(desired)), "numberReady": .int(Int64(ready)),
            "observedGeneration": .int(observedGeneration),
        ]
        if updated > 0 { status["updatedNumberScheduled"] = .int(Int64(updated)) }
        if available > 0 { status["numberAvailable"] = .int(Int64(available)) }
        if desired - available > 0 { status["numberUnavailable"] = .int(Int64(desired - available)) }
        return .object(status)
    }
}
