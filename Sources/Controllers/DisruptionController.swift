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
///   (Deployment through its ReplicaSet, ReplicaSet, StatefulSet) when the budget is a
///   percentage or a maxUnavailable, else the number of selected pods;
/// - currentHealthy counts Ready pods that are not being deleted and were not evicted less than
///   two minutes ago (`disruptedPods`: entries older than that, or of pods gone, are dropped,
///   and the budget is looked at again when the oldest would expire);
/// - a sync that fails (a selected pod whose controller is not found, a bad selector) leaves
///   no disruption allowed, with a False SyncFailed condition saying why (`failSafe`).
///
/// Budgets are synced when they change, when a pod they select (before or after the change)
/// comes, changes or goes, and (beyond upstream, which waits for the pods to change) when a
/// Deployment, ReplicaSet or StatefulSet of their namespace changes its replicas.
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
    private let queue = WorkQueue()
    private let logger: Logger
    private let clock: ControllerClock

    init(client: any ResourceClient, informers: Informers, logger: Logger, clock: ControllerClock = .system) {
        self.client = client
        self.budgets = informers.informer(.podDisruptionBudgets)
        self.pods = informers.informer(.pods)
        self.replicaSets = informers.informer(.replicaSets)
        self.deployments = informers.informer(.deployments)
        self.statefulSets = informers.informer(.statefulSets)
        self.logger = logger
        self.clock = clock
        let queue = self.queue, budgets = self.budgets
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
        replicaSets.addHandler(scaleChanged)
        deployments.addHandler(scaleChanged)
        statefulSets.addHandler(scaleChanged)
    }

    func run() async {
        await runWorkers(name: name, queue: queue, workers: 2, logger: logger) { key in try await sync(key) }
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
