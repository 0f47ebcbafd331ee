import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging
import Synchronization

/// kube-controller-manager's node lifecycle controller with its taint-based eviction:
/// - every `nodeMonitorPeriod`, a node whose Lease (`kube-node-lease/<node>`) and Ready
///   heartbeat have not changed for `nodeMonitorGracePeriod` gets its conditions set Unknown
///   ("Kubelet stopped posting node status.") and its pods' Ready condition False;
/// - nodes carry the taints of their Ready condition (`node.kubernetes.io/not-ready` when
///   False, `node.kubernetes.io/unreachable` when Unknown, each NoSchedule and NoExecute) and
///   `node.kubernetes.io/unschedulable:NoSchedule` when cordoned; the taints go when the
///   agent reports Ready again;
/// - pods on a node with NoExecute taints are deleted (gracefully) once their tolerations
///   run out: at once without a toleration, after the smallest `tolerationSeconds` otherwise.
///
/// Like upstream, staleness is measured by when this controller last *saw* the lease or the
/// heartbeat change, not by the timestamps in them, so clock skew between machines does not
/// matter (and a restarted server gives every node a fresh grace period).
/// See https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/nodelifecycle/node_lifecycle_controller.go
struct NodeLifecycleController: Controller {
    static let notReadyTaintKey = NodeTaint.notReadyKey
    static let unreachableTaintKey = NodeTaint.unreachableKey
    static let unschedulableTaintKey = "node.kubernetes.io/unschedulable"
    static let leaseNamespace = "kube-node-lease"
    /// The conditions a kubelet posts that go Unknown when it stops (NetworkUnavailable is not the kubelet's).
    static let kubeletConditions = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]

    let name = "node-lifecycle"
    private let client: any ResourceClient
    private let nodes: Informer
    private let leases: Informer
    private let pods: Informer
    private let settings: ControllerSettings
    private let logger: Logger

    /// What was last seen of a node's heartbeats, and when it last changed.
    private struct Health: Sendable {
        var leaseRenewTime: String?
        var readyHeartbeat: String?
        var probeTime: ContinuousClock.Instant
    }
    private let health = ControllerState<[String: Health]>([:])
    /// When a pod was first found on a node with NoExecute taints lacking `timeAdded`.
    private let evictionStarts = ControllerState<[String: Date]>([:])

    init(client: any ResourceClient, informers: Informers, settings: ControllerSettings, logger: Logger) {
        self.client = client
        self.nodes = informers.informer(.nodes)
        self.leases = informers.informer(.leases)
        self.pods = informers.informer(.pods)
        self.settings = settings
        self.logger = logger
    }

    func run() async {
        while !Task.isCancelled {
            await monitorNodes()
            try? await Task.sleep(for: settings.nodeMonitorPeriod)
        }
    }

    /// One pass over every node (`monitorNodeHealth` plus the tainting passes).
    func monitorNodes() async {
        let now = ContinuousClock.now
        let nodeList = nodes.list()
        let names = Set(nodeList.compactMap(\.name))
        health.withLock { health in health = health.filter { names.contains($0.key) } }
        for node in nodeList {
            do {
                var current = node
                if isStale(node, now: now) {
                    current = try await markUnknown(node)
                }
                if SchedulerPredicates.readyStatus(of: current) != "True" {
                    await markPodsNotReady(on: current.name ?? "")
                }
                current = try await reconcileTaints(current)
                await evictPods(on: current)
            } catch {
                // A conflict means the agent just wrote the node: the next pass sees the new copy.
                if error.code != 409 {
                    logger.warning("node lifecycle failed", metadata: ["node": "\(node.name ?? "")", "error": "\(error)"])
                }
            }
        }
    }

    // MARK: - Health

    /// Records what the node's lease and Ready heartbeat say; true once neither changed for the grace period.
    private func isStale(_ node: KubeObject, now: ContinuousClock.Instant) -> Bool {
        guard let name = node.name else { return false }
        let lease = leases.get(namespace: Self.leaseNamespace, name: name)?.string(at: ["spec", "renewTime"])
        let ready = (node.value(at: ["status", "conditions"])?.arrayValue ?? [])
            .first { $0["type"]?.stringValue == "Ready" }?["lastHeartbeatTime"]?.stringValue
        let probe = health.withLock { health -> ContinuousClock.Instant in
            if var entry = health[name] {
                if entry.leaseRenewTime != lease || entry.readyHeartbeat != ready {
                    entry = Health(leaseRenewTime: lease, readyHeartbeat: ready, probeTime: now)
                    health[name] = entry
                }
                return entry.probeTime
            }
            // First sight: the node gets a full grace period from now.
            health[name] = Health(leaseRenewTime: lease, readyHeartbeat: ready, probeTime: now)
            return now
        }
        return now - probe > settings.nodeMonitorGracePeriod
    }

    /// Sets the kubelet's conditions Unknown (once; the agent's next status replaces them).
    private func markUnknown(_ node: KubeObject) async throws(APIError) -> KubeObject {
        let now = Time.now().description
        var conditions = node.value(at: ["status", "conditions"])?.arrayValue ?? []
        var changed = false
        for type in Self.kubeletConditions {
            if let index = conditions.firstIndex(where: { $0["type"]?.stringValue == type }) {
                guard conditions[index]["status"]?.stringValue != "Unknown" else { continue }
                var condition = conditions[index].objectValue ?? [:]
                condition["status"] = .string("Unknown")
                condition["reason"] = .string("NodeStatusUnknown")
                condition["message"] = .string("Kubelet stopped posting node status.")
                condition["lastTransitionTime"] = .string(now)
                conditions[index] = .object(condition)
            } else {
                conditions.append(.object([
                    "type": .string(type), "status": .string("Unknown"), "reason": .string("NodeStatusNeverUpdated"),
                    "message": .string("Kubelet never posted node status."),
                    "lastHeartbeatTime": .string(node.creationTimestamp ?? now), "lastTransitionTime": .string(now),
                ]))
            }
            changed = true
        }
        guard changed else { return node }
        var updated = node
        updated.set(.array(conditions), at: ["status", "conditions"])
        logger.info("node stopped posting status", metadata: ["node": "\(node.name ?? "")"])
        await client.recordEvent(about: node, type: "Normal", reason: "NodeNotReady",
                                 message: "Node \(node.name ?? "") status is now: NodeNotReady", component: "node-controller")
        return try await client.update(.nodes, updated, subresource: "status")
    }

    /// `MarkPodsNotReady`: the pods of a node that is not Ready are not Ready either.
    private func markPodsNotReady(on nodeName: String) async {
        for pod in pods.list() where pod.string(at: ["spec", "nodeName"]) == nodeName && !SchedulerPredicates.isTerminal(pod) {
            var conditions = pod.value(at: ["status", "conditions"])?.arrayValue ?? []
            guard let index = conditions.firstIndex(where: { $0["type"]?.stringValue == "Ready" }),
                  conditions[index]["status"]?.stringValue != "False" else { continue }
            var condition = conditions[index].objectValue ?? [:]
            condition["status"] = .string("False")
            condition["lastTransitionTime"] = .string(Time.now().description)
            conditions[index] = .object(condition)
            var updated = pod
            updated.set(.array(conditions), at: ["status", "conditions"])
            do {
                _ = try await client.update(.pods, updated, subresource: "status")
            } catch {
                // A conflict: the informer's copy is behind, and the next pass retries with a newer one.
                if error.code != 409 {
                    logger.warning("marking pod not ready failed", metadata: [
                        "pod": "\(pod.namespace ?? "")/\(pod.name ?? "")", "error": "\(error)"])
                }
            }
        }
    }

    // MARK: - Taints

    /// The taints a node should carry for its Ready condition and `spec.unschedulable`.
    static func conditionTaints(for node: KubeObject) -> [NodeTaint] {
        var taints: [NodeTaint] = []
        switch SchedulerPredicates.readyStatus(of: node) {
        case "True": break
        case "False":
            taints += [NodeTaint(key: notReadyTaintKey, effect: "NoSchedule"), NodeTaint(key: notReadyTaintKey, effect: "NoExecute")]
        default:
            taints += [NodeTaint(key: unreachableTaintKey, effect: "NoSchedule"), NodeTaint(key: unreachableTaintKey, effect: "NoExecute")]
        }
        if node.value(at: ["spec", "unschedulable"])?.boolValue == true {
            taints.append(NodeTaint(key: unschedulableTaintKey, effect: "NoSchedule"))
        }
        return taints
    }

    /// Adds the missing condition taints (with `timeAdded`) and removes the ones no longer due;
    /// taints of other keys are left alone.
    private func reconcileTaints(_ node: KubeObject) async throws(APIError) -> KubeObject {
        let managed: Set<String> = [Self.notReadyTaintKey, Self.unreachableTaintKey, Self.unschedulableTaintKey]
        let current = NodeTaint.taints(of: node)
        let wanted = Self.conditionTaints(for: node)
        let now = Time.now().description
        var result = current.filter { taint in
            !managed.contains(taint.key) || wanted.contains { $0.key == taint.key && $0.effect == taint.effect }
        }
        for taint in wanted where !result.contains(where: { $0.key == taint.key && $0.effect == taint.effect }) {
            var added = taint
            added.timeAdded = now
            result.append(added)
        }
        guard result != current else { return node }
        var updated = node
        updated.set(result.isEmpty ? nil : .array(result.map(\.json)), at: ["spec", "taints"])
        return try await client.update(.nodes, updated)
    }

    // MARK: - Taint-based eviction

    /// Deletes the pods of `node` whose tolerations of its NoExecute taints have run out.
    private func evictPods(on node: KubeObject) async {
        let noExecute = NodeTaint.taints(of: node).filter { $0.effect == "NoExecute" }
        let nodeName = node.name ?? ""
        let onNode = pods.list().filter { $0.string(at: ["spec", "nodeName"]) == nodeName && $0.deletionTimestamp == nil }
        guard !noExecute.isEmpty else {
            let uids = Set(onNode.compactMap(\.uid))
            evictionStarts.withLock { starts in starts = starts.filter { !uids.contains($0.key) } }
            return
        }
        let now = Date()
        for pod in onNode where !SchedulerPredicates.isTerminal(pod) {
            guard let deadline = evictionDeadline(pod: pod, taints: noExecute, now: now), deadline <= now else { continue }
            await client.recordEvent(about: pod, type: "Normal", reason: "TaintManagerEviction",
                                     message: "Marking for deletion Pod \(pod.namespace ?? "")/\(pod.name ?? "")",
                                     component: "taint-eviction-controller")
            do {
                try await client.delete(.pods, namespace: pod.namespace, name: pod.name ?? "", preconditionUID: pod.uid)
            } catch {
                logger.warning("eviction failed", metadata: ["pod": "\(pod.namespace ?? "")/\(pod.name ?? "")", "error": "\(error)"])
            }
        }
    }

    /// When the pod must go: now for an untolerated taint, never when every matching
    /// toleration is unbounded, else the taint's `timeAdded` plus the smallest `tolerationSeconds`
    /// (`getMinTolerationTime`).
    private func evictionDeadline(pod: KubeObject, taints: [NodeTaint], now: Date) -> Date? {
        let tolerations = pod.value(at: ["spec", "tolerations"])?.arrayValue ?? []
        var used: [JSONValue] = []
        for taint in taints {
            let matching = tolerations.filter { taint.isTolerated(by: $0) }
            if matching.isEmpty { return now }
            used += matching
        }
        let seconds = used.compactMap { $0["tolerationSeconds"]?.intValue }
        guard let minimum = seconds.min() else { return nil }
        let added = taints.compactMap { $0.timeAdded.flatMap(Time.init(rfc3339:))?.date }.min()
        let start = evictionStarts.withLock { starts -> Date in
            let key = pod.uid ?? ""
            if let existing = starts[key] { return existing }
            let start = added ?? now
            starts[key] = start
            return start
        }
        return start.addingTimeInterval(Double(max(minimum, 0)))
    }
}
