import ControllerRuntime
import APIMachinery
import Foundation
import KubeAPI
import Logging
import Synchronization

/// kube-scheduler, in small: binds each pod without `spec.nodeName` (and for the default
/// scheduler) to a node that passes `SchedulerPredicates`, preferring nodes with fewer pods of
/// the same owner, then the least allocated, ties broken at random.
///
/// One pod is scheduled at a time (one worker), the pending pod of highest `spec.priority`
/// first (the PrioritySort queue order), against the informers' view plus the pods this
/// scheduler placed that the pod informer has not reported bound yet (the "assumed" pods of the
/// scheduler cache), so a burst of pods does not overcommit a node. Binding runs apart from
/// the scheduling of the next pod (`Scheduler+Binding.swift`). Pods nominated to a node
/// by preemption hold their room there against pods of lower priority.
/// An unschedulable pod gets `PodScheduled=False` (reason `Unschedulable`) and a
/// FailedScheduling event, and is retried when a node or an assigned pod changes, and at least
/// every `schedulerRetryPeriod`. Before that, unless its preemptionPolicy is Never, it may
/// preempt lower-priority pods (`SchedulerPreemption`): the victims get a DisruptionTarget
/// condition and are deleted gracefully, the pod's `status.nominatedNodeName` names the node,
/// and it is bound there once they are gone.
/// Pods with persistentVolumeClaim volumes also pass `SchedulerVolumeBinding`, which binds
/// their WaitForFirstConsumer claims for the chosen node before the pod is bound.
/// See https://github.com/kubernetes/kubernetes/blob/master/pkg/scheduler/schedule_one.go
package struct Scheduler: Controller {
    static let component = "default-scheduler"

    package let name = "scheduler"
    let client: any ResourceClient
    let pods: Informer
    private let nodes: Informer
    private let budgets: Informer
    private let volumeBinding: SchedulerVolumeBinding
    let queue: WorkQueue
    /// How often unschedulable pods are retried even when nothing changed (`schedulerRetryPeriod`).
    private let retryPeriod: Duration
    let logger: Logger
    /// Pod uid → node, for bindings not yet seen by the pod informer.
    let assumed = ControllerState<[String: String]>([:])
    /// Pods assumed on a node, waiting for their binding cycle (`Scheduler+Binding.swift`).
    let bindings: (stream: AsyncStream<PendingBinding>, continuation: AsyncStream<PendingBinding>.Continuation)

    package init(client: any ResourceClient, informers: Informers, retryPeriod: Duration, logger: Logger) {
        self.client = client
        self.pods = informers.informer(.pods)
        self.nodes = informers.informer(.nodes)
        self.budgets = informers.informer(.podDisruptionBudgets)
        self.volumeBinding = SchedulerVolumeBinding(informers: informers)
        self.retryPeriod = retryPeriod
        self.logger = logger
        self.bindings = AsyncStream.makeStream(of: PendingBinding.self)
        let pods = self.pods
        // PrioritySort: the highest priority first; equal ones in the order they came.
        let queue = WorkQueue(priority: { key in pods.get(key: key).map(SchedulerPreemption.priority(of:)) ?? 0 })
        self.queue = queue
        self.pods.addHandler { event in
            switch event {
            case .added(let pod):
                if Self.needsScheduling(pod) { Task { await queue.add(Informer.key(of: pod)) } }
            case .updated(let old, let new):
                if Self.needsScheduling(new) {
                    // Our own status write (the Unschedulable condition) is no reason to retry.
                    if Self.isPodUpdated(old: old, new: new) { Task { await queue.add(Informer.key(of: new)) } }
                } else if Self.freesResources(old: old, new: new) {
                    Self.enqueueUnscheduled(pods: pods, queue: queue)
                }
            case .deleted(let pod):
                if !(pod.string(at: ["spec", "nodeName"]) ?? "").isEmpty { Self.enqueueUnscheduled(pods: pods, queue: queue) }
            }
        }
        self.nodes.addHandler { event in
            // A heartbeat (new lastHeartbeatTime, images, addresses) cannot make a pod fit, and
            // with many pending pods retrying them all on every node status write saturates the
            // store; kube-scheduler requeues on node add and on the changes it checks in
            // `nodeSchedulingPropertiesChange` (pkg/scheduler/eventhandlers.go).
            switch event {
            case .added: Self.enqueueUnscheduled(pods: pods, queue: queue)
            case .updated(let old, let new):
                if Self.schedulingPropertiesChanged(old, new) { Self.enqueueUnscheduled(pods: pods, queue: queue) }
            case .deleted: break
            }
        }
        // A claim made or bound, a volume made or freed, a class made: pods waiting on their
        // claims may fit now (the VolumeBinding plugin's cluster events).
        let retry: @Sendable (InformerEvent) -> Void = { event in
            if case .deleted = event { return }
            Self.enqueueUnscheduled(pods: pods, queue: queue)
        }
        volumeBinding.claims.addHandler(retry)
        volumeBinding.volumes.addHandler(retry)
        volumeBinding.classes.addHandler(retry)
    }

    package func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in try await schedule(key: key) }
                bindings.continuation.finish()
            }
            group.addTask { await runBindingCycles() }
            group.addTask {
                // kube-scheduler flushes unschedulable pods back to the active queue periodically.
                while !Task.isCancelled {
                    try? await Task.sleep(for: retryPeriod)
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

    /// What can turn a node from unfit to fit: unschedulable, allocatable, labels, taints, or a
    /// condition's status (upstream compares conditions by type and status, not their times).
    static func schedulingPropertiesChanged(_ old: KubeObject, _ new: KubeObject) -> Bool {
        func conditions(_ node: KubeObject) -> [String: String] {
            var statuses: [String: String] = [:]
            for condition in node.value(at: ["status", "conditions"])?.arrayValue ?? [] {
                if let type = condition["type"]?.stringValue { statuses[type] = condition["status"]?.stringValue ?? "" }
            }
            return statuses
        }
        return old.value(at: ["spec", "unschedulable"]) != new.value(at: ["spec", "unschedulable"])
            || old.value(at: ["spec", "taints"]) != new.value(at: ["spec", "taints"])
            || old.value(at: ["status", "allocatable"]) != new.value(at: ["status", "allocatable"])
            || old.labels != new.labels
            || conditions(old) != conditions(new)
    }

    /// An assigned pod finished (its requests no longer count).
    private static func freesResources(old: KubeObject, new: KubeObject) -> Bool {
        !(new.string(at: ["spec", "nodeName"]) ?? "").isEmpty && SchedulerPredicates.isTerminal(new) && !SchedulerPredicates.isTerminal(old)
    }

    /// Whether a pending pod changed in a way that may make it schedulable: upstream's
    /// `isPodUpdated` (pkg/scheduler/internal/queue/scheduling_queue.go) compares the pods
    /// without status, resourceVersion, generation, managedFields and finalizers. managedFields
    /// matter: the scheduler's own Unschedulable status write records a manager for the status
    /// subresource, and counting that as a change retried the pod alone, so a low-priority pod
    /// could take a node that had just appeared ahead of a higher one waiting with it.
    static func isPodUpdated(old: KubeObject, new: KubeObject) -> Bool {
        func stripped(_ pod: KubeObject) -> KubeObject {
            var copy = pod
            copy.fields["status"] = nil
            copy.resourceVersion = nil
            if var metadata = copy.fields["metadata"]?.objectValue {
                for field in ["generation", "managedFields", "finalizers"] { metadata[field] = nil }
                copy.fields["metadata"] = .object(metadata)
            }
            return copy
        }
        return stripped(old) != stripped(new)
    }

    /// All at once, so the idle worker gets the highest priority of them (`add(contentsOf:)`).
    private static func enqueueUnscheduled(pods: Informer, queue: WorkQueue) {
        let keys = pods.list().filter(needsScheduling).map(Informer.key(of:))
        guard !keys.isEmpty else { return }
        Task { await queue.add(contentsOf: keys) }
    }

    // MARK: - Scheduling one pod

    private func schedule(key: String) async throws(APIError) {
        guard let pod = pods.get(key: key), Self.needsScheduling(pod), pod.name != nil else { return }
        // Assumed on a node, its binding under way: upstream's skipPodSchedule.
        if let uid = pod.uid, assumed.withLock({ $0[uid] }) != nil { return }
        let nodeList = nodes.list().sorted { ($0.name ?? "") < ($1.name ?? "") }
        guard !nodeList.isEmpty else {
            try await markUnschedulable(pod, message: "no nodes available to schedule pods")
            return
        }
        let claims: [KubeObject]
        switch volumeBinding.preFilter(pod) {
        case .success(let found): claims = found
        case .failure(let failure):
            // A PreFilter rejection: no node is looked at, and preemption cannot help.
            let count = nodeList.count
            try await markUnschedulable(pod, message: "0/\(count) nodes are available: \(failure.message). preemption: 0/\(count) nodes are "
                                        + "available: \(count) Preemption is not helpful for scheduling.")
            return
        }
        let usage = nodeUsage(for: pod)
        let requests = SchedulerPredicates.requests(of: pod)
        var verdicts: [SchedulerPredicates.Verdict] = []
        var feasible: [KubeObject] = []
        for node in nodeList {
            let entry = usage[node.name ?? ""] ?? NodeUsage()
            var verdict = SchedulerPredicates.evaluate(pod: pod, requests: requests, node: node, used: entry.requested + entry.nominated)
            if verdict.fits, !claims.isEmpty, let reason = volumeBinding.filter(claims, node: node) {
                verdict = SchedulerPredicates.Verdict(reasons: [reason])
            }
            verdicts.append(verdict)
            if verdict.fits { feasible.append(node) }
        }
        // `evaluateNominatedNode`: a pod that preempted goes to its nominated node when it fits there.
        let nominated = pod.string(at: ["status", "nominatedNodeName"]) ?? ""
        let onNominated = nominated.isEmpty ? nil : feasible.first { $0.name == nominated }
        guard let chosen = onNominated ?? pick(from: feasible, pod: pod, usage: usage), let nodeName = chosen.name else {
            try await handleUnschedulable(pod, nodes: nodeList, verdicts: verdicts, requests: requests, usage: usage)
            return
        }
        if !claims.isEmpty {
            // Volume binding (PreBind) writes the claims before the pod is bound: in this cycle.
            try await volumeBinding.bindClaims(claims, to: chosen, client: client)
        }
        // Assume, then bind off this cycle: the next pod is placed against this one's node
        // without waiting for the binding's write (kube-scheduler's binding cycle).
        if let uid = pod.uid { assumed.withLock { $0[uid] = nodeName } }
        bindings.continuation.yield(PendingBinding(pod: pod, node: nodeName))
    }

    /// What is on one node, as far as this pod's scheduling is concerned.
    struct NodeUsage {
        /// Requests of the node's non-terminal pods (bound, or assumed bound by us).
        var requested = SchedulingResources()
        /// The same with 100m/200Mi for pods that request nothing (for scoring).
        var nonZeroRequested = SchedulingResources()
        /// How many of them are "the same kind" as the pod (for spreading).
        var sameGroup = 0
        /// Those pods (the candidates for preemption).
        var pods: [KubeObject] = []
        /// Requests of pending pods nominated to the node whose priority is not below this
        /// pod's: room that preemption made for them (`addNominatedPods`).
        var nominated = SchedulingResources()
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
        let priority = SchedulerPreemption.priority(of: pod)
        var usage: [String: NodeUsage] = [:]
        for other in all where !SchedulerPredicates.isTerminal(other) && other.uid != pod.uid {
            var node = other.string(at: ["spec", "nodeName"]) ?? ""
            if node.isEmpty, let uid = other.uid, let assumedNode = snapshot[uid] { node = assumedNode }
            if node.isEmpty {
                let nominatedNode = other.string(at: ["status", "nominatedNodeName"]) ?? ""
                if !nominatedNode.isEmpty, Self.needsScheduling(other), SchedulerPreemption.priority(of: other) >= priority {
                    usage[nominatedNode, default: NodeUsage()].nominated = usage[nominatedNode, default: NodeUsage()].nominated
                        + SchedulerPredicates.requests(of: other)
                }
                continue
            }
            var entry = usage[node, default: NodeUsage()]
            entry.requested = entry.requested + SchedulerPredicates.requests(of: other)
            entry.nonZeroRequested = entry.nonZeroRequested + SchedulerPredicates.requests(of: other, nonZero: true)
            if Self.isSameGroup(other, as: pod, owner: owner) { entry.sameGroup += 1 }
            entry.pods.append(other)
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

    // MARK: - Preemption

    /// The PostFilter step of a pod that fits nowhere (`DefaultPreemption.PostFilter`): not
    /// eligible, no candidate (the nomination cleared), or victims preempted on the chosen
    /// node and the pod nominated there; then the failure is recorded as kube-scheduler does.
    private func handleUnschedulable(_ pod: KubeObject, nodes: [KubeObject], verdicts: [SchedulerPredicates.Verdict],
                                     requests: SchedulingResources, usage: [String: NodeUsage]) async throws(APIError) {
        let nominated = pod.string(at: ["status", "nominatedNodeName"]) ?? ""
        let nominatedIndex = nodes.firstIndex { !nominated.isEmpty && $0.name == nominated }
        if let reason = SchedulerPreemption.ineligibility(of: pod, podsOnNominatedNode: usage[nominated]?.pods ?? [],
                                                          nominatedNodeResolvable: nominatedIndex.map { verdicts[$0].resolvable } ?? false) {
            try await markUnschedulable(pod, message: SchedulerPredicates.failureMessage(verdicts: verdicts, postFilter: .ineligible(reason)))
            return
        }
        let outcome = SchedulerPreemption.evaluate(pod: pod, requests: requests, nodes: nodes, verdicts: verdicts,
                                                   podsByNode: usage.mapValues(\.pods), nominatedUsage: usage.mapValues(\.nominated),
                                                   budgets: budgets.list())
        switch outcome {
        case .noCandidate(let reasons):
            try await markUnschedulable(pod, message: SchedulerPredicates.failureMessage(verdicts: verdicts, postFilter: .noCandidate(reasons)),
                                        nominatedNode: nominated.isEmpty ? nil : "")
        case .candidate(let candidate):
            try await preempt(candidate, for: pod)
            try await markUnschedulable(pod, message: SchedulerPredicates.failureMessage(verdicts: verdicts, postFilter: .nominated),
                                        nominatedNode: candidate.node)
        }
    }

    /// `prepareCandidate`: each victim gets the DisruptionTarget condition (reason
    /// PreemptionByScheduler) and is deleted with its own grace period, with a `Preempted`
    /// event; pods of lower priority nominated to the node lose their nomination.
    private func preempt(_ candidate: SchedulerPreemption.Candidate, for pod: KubeObject) async throws(APIError) {
        let scheduler = pod.string(at: ["spec", "schedulerName"]).flatMap { $0.isEmpty ? nil : $0 } ?? Self.component
        for victim in candidate.victims {
            guard let name = victim.name else { continue }
            try await updateStatus(of: victim) { status in
                var conditions = status["conditions"]?.arrayValue ?? []
                let existing = conditions.firstIndex { $0["type"]?.stringValue == "DisruptionTarget" }
                let transition = existing.flatMap { conditions[$0]["status"]?.stringValue == "True" ? conditions[$0]["lastTransitionTime"] : nil }
                let condition: JSONValue = .object([
                    "type": .string("DisruptionTarget"), "status": .string("True"), "lastProbeTime": .null,
                    "lastTransitionTime": transition ?? .string(Time.now().description),
                    "reason": .string(SchedulerPreemption.disruptionReason),
                    "message": .string("\(scheduler): preempting to accommodate a higher priority pod"),
                ])
                if let existing { conditions[existing] = condition } else { conditions.append(condition) }
                status["conditions"] = .array(conditions)
            }
            do {
                try await client.delete(.pods, namespace: victim.namespace, name: name, preconditionUID: victim.uid)
            } catch where error.code == 404 || error.code == 409 {
                continue
            }
            await client.recordEvent(about: victim, type: "Normal", reason: "Preempted",
                                     message: "Preempted by pod \(pod.uid ?? "") on node \(candidate.node)", component: Self.component)
        }
        let priority = SchedulerPreemption.priority(of: pod)
        for other in pods.list() where other.uid != pod.uid && Self.needsScheduling(other)
            && other.string(at: ["status", "nominatedNodeName"]) == candidate.node && SchedulerPreemption.priority(of: other) < priority {
            try await updateStatus(of: other) { status in status["nominatedNodeName"] = nil }
        }
    }

    /// A read-modify-write of a pod's status, retried on conflicts; a pod gone is left alone.
    private func updateStatus(of pod: KubeObject, _ change: (inout [String: JSONValue]) -> Void) async throws(APIError) {
        var current = pod
        for attempt in 0..<5 {
            if attempt > 0 {
                guard let fresh = try await client.get(.pods, namespace: pod.namespace, name: pod.name ?? ""), fresh.uid == pod.uid else { return }
                current = fresh
            }
            var status = current.value(at: ["status"])?.objectValue ?? [:]
            change(&status)
            current.fields["status"] = .object(status)
            do {
                _ = try await client.update(.pods, current, subresource: "status")
                return
            } catch where error.code == 404 {
                return
            } catch where error.code == 409 {
                continue
            }
        }
    }

    /// `PodScheduled=False`, reason Unschedulable, and a FailedScheduling event
    /// (`handleSchedulingFailure`); with `nominatedNode`, the pod's `status.nominatedNodeName`
    /// is set to it (empty: cleared) in the same write.
    private func markUnschedulable(_ pod: KubeObject, message: String, nominatedNode: String? = nil) async throws(APIError) {
        var conditions = pod.value(at: ["status", "conditions"])?.arrayValue ?? []
        let existing = conditions.first { $0["type"]?.stringValue == "PodScheduled" }
        let currentNomination = pod.string(at: ["status", "nominatedNodeName"]) ?? ""
        let nominationChanges = nominatedNode.map { $0 != currentNomination } ?? false
        if existing?["status"]?.stringValue != "False" || existing?["reason"]?.stringValue != "Unschedulable"
            || existing?["message"]?.stringValue != message || nominationChanges {
            conditions.removeAll { $0["type"]?.stringValue == "PodScheduled" }
            conditions.append(.object([
                "type": .string("PodScheduled"), "status": .string("False"), "reason": .string("Unschedulable"),
                "message": .string(message), "lastProbeTime": .null,
                "lastTransitionTime": existing?["status"]?.stringValue == "False"
                    ? existing?["lastTransitionTime"] ?? .string(Time.now().description) : .string(Time.now().description),
            ]))
            var updated = pod
            updated.set(.array(conditions), at: ["status", "conditions"])
            if let nominatedNode, var status = updated.value(at: ["status"])?.objectValue {
                status["nominatedNodeName"] = nominatedNode.isEmpty ? nil : .string(nominatedNode)
                updated.fields["status"] = .object(status)
            }
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
