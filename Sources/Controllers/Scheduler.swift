import APIMachinery
import Foundation
import KubeAPI
import Logging
import Synchronization

/// kube-scheduler, in small: binds each pod without `spec.nodeName` (and for the default
/// scheduler) to a node that passes `SchedulerPredicates`, preferring nodes with fewer pods of
/// the same owner, then the least allocated, ties broken at random.
///
/// One pod is scheduled at a time (one worker), against the informers' view plus the
/// bindings this scheduler made that the pod informer has not reported yet (the "assumed"
/// pods of the scheduler cache), so a burst of pods does not overcommit a node.
/// An unschedulable pod gets `PodScheduled=False` (reason `Unschedulable`) and a
/// FailedScheduling event, and is retried when a node or an assigned pod changes, and at least
/// every `schedulerRetryPeriod`.
/// See https://github.com/kubernetes/kubernetes/blob/master/pkg/scheduler/schedule_one.go
struct Scheduler: Controller {
    static let component = "default-scheduler"

    let name = "scheduler"
    private let client: any ResourceClient
    private let pods: Informer
    private let nodes: Informer
    private let queue = WorkQueue()
    private let settings: ControllerSettings
    private let logger: Logger
    /// Pod uid → node, for bindings not yet seen by the pod informer.
    private let assumed = ControllerState<[String: String]>([:])

    init(client: any ResourceClient, informers: Informers, settings: ControllerSettings, logger: Logger) {
        self.client = client
        self.pods = informers.informer(.pods)
        self.nodes = informers.informer(.nodes)
        self.settings = settings
        self.logger = logger
        let queue = self.queue
        let pods = self.pods
        self.pods.addHandler { event in
            switch event {
            case .added(let pod):
                if Self.needsScheduling(pod) { Task { await queue.add(Informer.key(of: pod)) } }
            case .updated(let old, let new):
                if Self.needsScheduling(new) {
                    // Our own status write (the Unschedulable condition) is no reason to retry.
                    if Self.withoutStatus(old) != Self.withoutStatus(new) { Task { await queue.add(Informer.key(of: new)) } }
                } else if Self.freesResources(old: old, new: new) {
                    Self.enqueueUnscheduled(pods: pods, queue: queue)
                }
            case .deleted(let pod):
                if !(pod.string(at: ["spec", "nodeName"]) ?? "").isEmpty { Self.enqueueUnscheduled(pods: pods, queue: queue) }
            }
        }
        self.nodes.addHandler { _ in Self.enqueueUnscheduled(pods: pods, queue: queue) }
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in try await schedule(key: key) }
            }
            group.addTask {
                // kube-scheduler flushes unschedulable pods back to the active queue periodically.
                while !Task.isCancelled {
                    try? await Task.sleep(for: settings.schedulerRetryPeriod)
                    Self.enqueueUnscheduled(pods: pods, queue: queue)
                }
            }
        }
    }

    // MARK: - Which pods

    /// Unbound, not being deleted, not finished, and for us (`schedulerName` empty or default).
    static func needsScheduling(_ pod: KubeObject) -> Bool {
        let scheduler = pod.string(at: ["spec", "schedulerName"]) ?? ""
        return (pod.string(at: ["spec", "nodeName"]) ?? "").isEmpty && pod.deletionTimestamp == nil
            && (scheduler.isEmpty || scheduler == component) && !SchedulerPredicates.isTerminal(pod)
    }

    /// An assigned pod finished (its requests no longer count).
    private static func freesResources(old: KubeObject, new: KubeObject) -> Bool {
        !(new.string(at: ["spec", "nodeName"]) ?? "").isEmpty && SchedulerPredicates.isTerminal(new) && !SchedulerPredicates.isTerminal(old)
    }

    private static func withoutStatus(_ object: KubeObject) -> KubeObject {
        var copy = object
        copy.fields["status"] = nil
        copy.resourceVersion = nil
        return copy
    }

    private static func enqueueUnscheduled(pods: Informer, queue: WorkQueue) {
        let keys = pods.list().filter(needsScheduling).map(Informer.key(of:))
        guard !keys.isEmpty else { return }
        Task { for key in keys { await queue.add(key) } }
    }

    // MARK: - Scheduling one pod

    private func schedule(key: String) async throws(APIError) {
        guard let pod = pods.get(key: key), Self.needsScheduling(pod), let podName = pod.name else { return }
        let nodeList = nodes.list().sorted { ($0.name ?? "") < ($1.name ?? "") }
        guard !nodeList.isEmpty else {
            try await markUnschedulable(pod, message: "no nodes available to schedule pods")
            return
        }
        let usage = nodeUsage(for: pod)
        let requests = SchedulerPredicates.requests(of: pod)
        var verdicts: [SchedulerPredicates.Verdict] = []
        var feasible: [KubeObject] = []
        for node in nodeList {
            let verdict = SchedulerPredicates.evaluate(pod: pod, requests: requests, node: node,
                                                       used: usage[node.name ?? ""]?.requested ?? SchedulingResources())
            verdicts.append(verdict)
            if verdict.fits { feasible.append(node) }
        }
        guard let chosen = pick(from: feasible, pod: pod, usage: usage), let nodeName = chosen.name else {
            let message = SchedulerPredicates.failureMessage(verdicts: verdicts,
                                                             preemptionPolicy: pod.string(at: ["spec", "preemptionPolicy"]))
            try await markUnschedulable(pod, message: message)
            return
        }
        var binding: [String: JSONValue] = ["name": .string(podName)]
        if let uid = pod.uid { binding["uid"] = .string(uid) }
        let body = KubeObject(fields: ["metadata": .object(binding), "target": .object(["kind": .string("Node"), "name": .string(nodeName)])])
        do {
            try await client.bind(namespace: pod.namespace, name: podName, binding: body)
        } catch {
            // Deleted, already bound, or replaced meanwhile: nothing left to schedule.
            if error.code == 404 || error.code == 409 { return }
            throw error
        }
        if let uid = pod.uid { assumed.withLock { $0[uid] = nodeName } }
        await client.recordEvent(about: pod, type: "Normal", reason: "Scheduled",
                                 message: "Successfully assigned \(pod.namespace ?? "")/\(podName) to \(nodeName)", component: Self.component)
    }

    /// What is on one node, as far as this pod's scheduling is concerned.
    struct NodeUsage {
        /// Requests of the node's non-terminal pods (bound, or assumed bound by us).
        var requested = SchedulingResources()
        /// The same with 100m/200Mi for pods that request nothing (for scoring).
        var nonZeroRequested = SchedulingResources()
        /// How many of them are "the same kind" as the pod (for spreading).
        var sameGroup = 0
    }

    private func nodeUsage(for pod: KubeObject) -> [String: NodeUsage] {
        let all = pods.list()
        let snapshot = assumed.withLock { assumed -> [String: String] in
            // Forget assumptions the informer has caught up with (bound, or the pod is gone).
            let current = Dictionary(all.compactMap { pod in pod.uid.map { ($0, pod) } }, uniquingKeysWith: { first, _ in first })
            assumed = assumed.filter { uid, _ in
                guard let seen = current[uid] else { return false }
                return (seen.string(at: ["spec", "nodeName"]) ?? "").isEmpty
            }
            return assumed
        }
        let owner = SchedulerPredicates.controllerUID(of: pod)
        var usage: [String: NodeUsage] = [:]
        for other in all where !SchedulerPredicates.isTerminal(other) {
            var node = other.string(at: ["spec", "nodeName"]) ?? ""
            if node.isEmpty, let uid = other.uid, let assumedNode = snapshot[uid] { node = assumedNode }
            guard !node.isEmpty, other.uid != pod.uid else { continue }
            var entry = usage[node, default: NodeUsage()]
            entry.requested = entry.requested + SchedulerPredicates.requests(of: other)
            entry.nonZeroRequested = entry.nonZeroRequested + SchedulerPredicates.requests(of: other, nonZero: true)
            if Self.isSameGroup(other, as: pod, owner: owner) { entry.sameGroup += 1 }
            usage[node] = entry
        }
        return usage
    }

    /// Pods spread together: same controller, or (without one) same namespace and labels.
    private static func isSameGroup(_ other: KubeObject, as pod: KubeObject, owner: String?) -> Bool {
        guard other.namespace == pod.namespace else { return false }
        if let owner { return SchedulerPredicates.controllerUID(of: other) == owner }
        return !pod.labels.isEmpty && other.labels == pod.labels
    }

    /// Fewest pods of the same group first, then the most free cpu and memory (the
    /// LeastAllocated score over non-zero requests), then random.
    private func pick(from feasible: [KubeObject], pod: KubeObject, usage: [String: NodeUsage]) -> KubeObject? {
        let requests = SchedulerPredicates.requests(of: pod, nonZero: true)
        func score(_ node: KubeObject) -> (spread: Int, free: Double) {
            let entry = usage[node.name ?? "", default: NodeUsage()]
            let allocatable = SchedulingResources(list: node.value(at: ["status", "allocatable"])?.objectValue)
            let used = entry.nonZeroRequested + requests
            func free(_ capacity: Int64, _ requested: Int64) -> Double {
                capacity <= 0 ? 0 : max(0, Double(capacity - requested) / Double(capacity))
            }
            return (entry.sameGroup, (free(allocatable.milliCPU, used.milliCPU) + free(allocatable.memory, used.memory)) / 2)
        }
        let scored = feasible.shuffled().map { ($0, score($0)) }
        return scored.min { lhs, rhs in
            lhs.1.spread != rhs.1.spread ? lhs.1.spread < rhs.1.spread : lhs.1.free > rhs.1.free
        }?.0
    }

    /// `PodScheduled=False`, reason Unschedulable, and a FailedScheduling event (`handleSchedulingFailure`).
    private func markUnschedulable(_ pod: KubeObject, message: String) async throws(APIError) {
        var conditions = pod.value(at: ["status", "conditions"])?.arrayValue ?? []
        let existing = conditions.first { $0["type"]?.stringValue == "PodScheduled" }
        if existing?["status"]?.stringValue != "False" || existing?["reason"]?.stringValue != "Unschedulable"
            || existing?["message"]?.stringValue != message {
            conditions.removeAll { $0["type"]?.stringValue == "PodScheduled" }
            conditions.append(.object([
                "type": .string("PodScheduled"), "status": .string("False"), "reason": .string("Unschedulable"),
                "message": .string(message), "lastProbeTime": .null,
                "lastTransitionTime": existing?["status"]?.stringValue == "False"
                    ? existing?["lastTransitionTime"] ?? .string(Time.now().description) : .string(Time.now().description),
            ]))
            var updated = pod
            updated.set(.array(conditions), at: ["status", "conditions"])
            do {
                _ = try await client.update(.pods, updated, subresource: "status")
            } catch {
                if error.code == 404 { return }
                throw error
            }
        }
        await client.recordEvent(about: pod, type: "Warning", reason: "FailedScheduling", message: message, component: Self.component)
    }
}
