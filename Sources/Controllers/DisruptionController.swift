import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's disruption controller (pkg/controller/disruption/disruption.go):
/// keeps each PodDisruptionBudget's status (expectedPods, desiredHealthy, currentHealthy,
/// disruptionsAllowed, disruptedPods, observedGeneration and the DisruptionAllowed condition),
/// which the eviction subresource reads and decrements.
///
/// - expectedPods is the sum of the desired replicas of the selected pods' controllers
///   (Deployment through its ReplicaSet, ReplicaSet, StatefulSet, ReplicationController) when the budget is a
///   percentage or a maxUnavailable, else the number of selected pods;
/// - currentHealthy counts Ready pods that are not being deleted and were not evicted less than
///   two minutes ago (`disruptedPods`: entries older than that, or of pods gone, are dropped,
///   and the budget is looked at again when the oldest would expire);
/// - a sync that fails (a selected pod whose controller is not found, a bad selector) leaves
///   no disruption allowed, with a False SyncFailed condition saying why (`failSafe`).
///
/// Budgets are synced when they change, when a pod they select (before or after the change)
/// comes, changes or goes, and (beyond upstream, which waits for the pods to change) when a
/// Deployment, ReplicaSet, StatefulSet or ReplicationController of their namespace changes its replicas.
///
/// A pod left with a True `DisruptionTarget` condition (an eviction that did not delete it) and
/// not terminating gets the condition set False after two minutes (upstream's
/// `syncStalePodDisruption`), so it is not taken for a pod on its way out.
struct DisruptionController: Controller {
    let name = "disruption"
    /// The event source upstream's disruption controller records with.
    static let component = "controllermanager"

    private let client: any ResourceClient
    private let budgets: Informer
    private let pods: Informer
    private let replicaSets: Informer
    private let deployments: Informer
    private let statefulSets: Informer
    private let replicationControllers: Informer
    private let queue = WorkQueue()
    /// Pods whose DisruptionTarget condition may be stale, by key.
    private let stalePods = WorkQueue()
    private let logger: Logger
    private let clock: ControllerClock
    /// `stalePodDisruptionTimeout` (2 minutes upstream).
    let stalePodDisruptionTimeout: Duration

    init(client: any ResourceClient, informers: Informers, logger: Logger, clock: ControllerClock = .system,
         stalePodDisruptionTimeout: Duration = .seconds(120)) {
        self.client = client
        self.budgets = informers.informer(.podDisruptionBudgets)
        self.pods = informers.informer(.pods)
        self.replicaSets = informers.informer(.replicaSets)
        self.deployments = informers.informer(.deployments)
        self.statefulSets = informers.informer(.statefulSets)
        self.replicationControllers = informers.informer(.replicationControllers)
        self.logger = logger
        self.clock = clock
        self.stalePodDisruptionTimeout = stalePodDisruptionTimeout
        let queue = self.queue, budgets = self.budgets, stalePods = self.stalePods
        let timeout = stalePodDisruptionTimeout.seconds
        budgets.addHandler { event in
            if case .deleted = event { return }
            let key = Informer.key(of: event.object)
            Task { await queue.add(key) }
        }
        /// The budgets of the pod's namespace whose selector matches it (`GetPodPodDisruptionBudgets`).
        @Sendable func enqueueBudgets(of pod: KubeObject) {
            let keys = budgets.list(namespace: pod.namespace).filter { budget in
                (try? DisruptionBudgetStatus.selectedPods(budget, from: [pod]))?.isEmpty == false
            }.map(Informer.key(of:))
            guard !keys.isEmpty else { return }
            Task { for key in keys { await queue.add(key) } }
        }
        pods.addHandler { event in
            if case .updated(let old, let new) = event {
                if old.labels != new.labels { enqueueBudgets(of: old) }
                enqueueBudgets(of: new)
            } else {
                enqueueBudgets(of: event.object)
            }
        }
        let scaleChanged: @Sendable (InformerEvent) -> Void = { event in
            if case .updated(let old, let new) = event, old.value(at: ["spec", "replicas"]) == new.value(at: ["spec", "replicas"]) { return }
            let keys = budgets.list(namespace: event.object.namespace).map(Informer.key(of:))
            guard !keys.isEmpty else { return }
            Task { for key in keys { await queue.add(key) } }
        }
        pods.addHandler { event in
            if case .deleted = event { return }
            guard let wait = Self.staleDisruptionWait(event.object, now: clock.now(), timeout: timeout) else { return }
            stalePods.add(Informer.key(of: event.object), after: .milliseconds(Int64(wait * 1000)))
        }
        replicaSets.addHandler(scaleChanged)
        deployments.addHandler(scaleChanged)
        statefulSets.addHandler(scaleChanged)
        replicationControllers.addHandler(scaleChanged)
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await runWorkers(name: name, queue: queue, workers: 2, logger: logger) { key in try await sync(key) } }
            group.addTask { await runWorkers(name: name, queue: stalePods, workers: 1, logger: logger) { key in try await syncStalePod(key) } }
        }
    }

    /// `syncStalePodDisruption`: the condition set False once it is two minutes old.
    private func syncStalePod(_ key: String) async throws(APIError) {
        guard let pod = pods.get(key: key),
              let wait = Self.staleDisruptionWait(pod, now: clock.now(), timeout: stalePodDisruptionTimeout.seconds) else { return }
        if wait > 0 {
            stalePods.add(key, after: .milliseconds(Int64(wait * 1000)))
            return
        }
        var conditions = pod.value(at: ["status", "conditions"])?.arrayValue ?? []
        guard let index = conditions.firstIndex(where: { $0["type"]?.stringValue == "DisruptionTarget" }) else { return }
        // UpdatePodCondition with {DisruptionTarget, False}: a new transition, no reason.
        conditions[index] = .object(["type": .string("DisruptionTarget"), "status": .string("False"), "lastProbeTime": .null,
                                     "lastTransitionTime": .string(Time(clock.now()).description)])
        var updated = pod
        updated.set(.array(conditions), at: ["status", "conditions"])
        _ = try await client.update(.pods, updated, subresource: "status")
    }

    /// `nonTerminatingPodHasStaleDisruptionCondition`: nil unless `pod` is not terminating nor
    /// finished and has a True DisruptionTarget condition not set by its kubelet; then the
    /// seconds until the condition is stale (0: now).
    static func staleDisruptionWait(_ pod: KubeObject, now: Date, timeout: TimeInterval) -> TimeInterval? {
        guard pod.deletionTimestamp == nil else { return nil }
        let phase = pod.string(at: ["status", "phase"]) ?? ""
        guard phase != "Succeeded", phase != "Failed",
              let condition = pod.value(at: ["status", "conditions"])?.arrayValue?.first(where: { $0["type"]?.stringValue == "DisruptionTarget" }),
              condition["status"]?.stringValue == "True", condition["reason"]?.stringValue != "TerminationByKubelet" else { return nil }
        let since = condition["lastTransitionTime"]?.stringValue.flatMap(Time.init(rfc3339:))?.date ?? now
        return max(timeout - now.timeIntervalSince(since), 0)
    }

    /// `sync`: conflicts go back to the queue (the next sync recomputes from fresh objects);
    /// other failures leave the budget allowing nothing.
    private func sync(_ key: String) async throws(APIError) {
        guard let budget = budgets.get(key: key) else { return }
        do {
            try await trySync(budget, key: key)
        } catch let error as APIError where error.code == 409 {
            throw error
        } catch {
            logger.warning("pod disruption budget sync failed", metadata: ["budget": "\(key)", "error": "\(error)"])
            let message = (error as? APIError)?.message ?? "\(error)"
            var failed = budget
            failed.set(DisruptionBudgetStatus.failSafe(budget, message: message, now: clock.now()), at: ["status"])
            _ = try await client.update(.podDisruptionBudgets, failed, subresource: "status")
        }
    }

    private func trySync(_ budget: KubeObject, key: String) async throws {
        let selected = try DisruptionBudgetStatus.selectedPods(budget, from: pods.list(namespace: budget.namespace))
        let now = clock.now()
        let computed = try DisruptionBudgetStatus(budget: budget, pods: selected, now: now) { pod in controllerScale(of: pod) }
        if let status = computed.status(for: budget, now: now) {
            if selected.isEmpty {
                await client.recordEvent(about: budget, type: "Normal", reason: "NoPods", message: "No matching pods found", component: Self.component)
            }
            if !computed.unmanagedPods.isEmpty {
                let selector = budget.value(at: ["spec", "selector"]).flatMap { try? LabelSelector(object: $0) }?.description ?? ""
                await client.recordEvent(about: budget, type: "Warning", reason: "UnmanagedPods",
                                         message: "Pods selected by this PodDisruptionBudget (selector: \(selector)) were found to be unmanaged. "
                                             + "As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "
                                             + "To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.",
                                         component: Self.component)
            }
            try await client.writeStatus(status, of: budget, in: .podDisruptionBudgets)
        }
        if let recheck = computed.recheckAt {
            queue.add(key, after: .milliseconds(Int64(max(recheck.timeIntervalSince(now), 0) * 1000) + 10))
        }
    }

    /// The controller of `pod` and its desired replicas (upstream's finders), from the
    /// informers' caches; nil when the reference names nothing found (or a kind without a scale).
    func controllerScale(of pod: KubeObject) -> (uid: String, replicas: Int64)? {
        guard let ref = pod.controllerRef else { return nil }
        let group = ref.apiVersion.split(separator: "/").dropLast().first.map(String.init) ?? ""
        // `getPodReplicationController`: a core/v1 controller reference.
        if group.isEmpty, ref.kind == "ReplicationController" {
            guard let rc = replicationControllers.get(namespace: pod.namespace, name: ref.name), rc.uid == ref.uid else { return nil }
            return (rc.uid ?? "", rc.specReplicas)
        }
        guard group == "apps" || group == "extensions" else { return nil }
        switch ref.kind {
        case "ReplicaSet":
            guard let set = replicaSets.get(namespace: pod.namespace, name: ref.name), set.uid == ref.uid else { return nil }
            if let owner = set.controllerRef, owner.kind == "Deployment" {
                guard let deployment = deployments.get(namespace: pod.namespace, name: owner.name), deployment.uid == owner.uid else { return nil }
                return (deployment.uid ?? "", deployment.specReplicas)
            }
            return (set.uid ?? "", set.specReplicas)
        case "StatefulSet":
            guard let set = statefulSets.get(namespace: pod.namespace, name: ref.name), set.uid == ref.uid else { return nil }
            return (set.uid ?? "", set.specReplicas)
        default:
            return nil
        }
    }
}
