import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's DaemonSet controller: one pod on each node the DaemonSet's
/// nodeSelector, node affinity and tolerations allow, none elsewhere; pods of an old template
/// replaced node by node within `maxUnavailable` (RollingUpdate) or left until deleted
/// (OnDelete); the counts `kubectl rollout status ds` reads in `status`.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/daemon/daemon_controller.go
/// and update.go. Pods are bound by the scheduler through a required node affinity on the
/// node's name, as upstream does since 1.12. Templates are kept as ControllerRevisions
/// (update.go `constructHistory`, `snapshot`, `cleanupHistory`) for `kubectl rollout
/// history/undo ds`. Not implemented: maxSurge, the failed-pod back-off.
package struct DaemonSetController: Controller {
    package let name = "daemonset"
    static let component = "daemonset-controller"

    let client: any ResourceClient
    let daemonSets: Informer
    let pods: Informer
    let nodes: Informer
    let history: ControllerHistory
    let queue = WorkQueue()
    let expectations = ReplicaSetExpectations()
    let logger: Logger
    let clock: ControllerClock
    let workers: Int

    package init(client: any ResourceClient, informers: Informers, logger: Logger, workers: Int = 2, clock: ControllerClock = .system) {
        self.client = client
        self.daemonSets = informers.informer(.daemonSets)
        self.pods = informers.informer(.pods)
        self.nodes = informers.informer(.nodes)
        let revisions = informers.informer(.controllerRevisions)
        self.history = ControllerHistory(client: client, revisions: revisions)
        self.logger = logger
        self.clock = clock
        self.workers = workers
        let this = self
        daemonSets.addHandler { event in
            if case .deleted(let daemonSet) = event { this.expectations.forget(Informer.key(of: daemonSet)) }
            this.enqueue(event.object)
        }
        pods.addHandler { event in this.podChanged(event) }
        revisions.addHandler { event in
            if let daemonSet = this.daemonSets.controller(of: event.object, kind: "DaemonSet") { this.enqueue(daemonSet) }
        }
        nodes.addHandler { event in
            // A node added, removed, relabelled or (un)tainted may change where daemons belong.
            if case .updated(let old, let new) = event, old.labels == new.labels,
               old.value(at: ["spec"]) == new.value(at: ["spec"]),
               SchedulerPredicates.readyStatus(of: old) == SchedulerPredicates.readyStatus(of: new) { return }
            for daemonSet in this.daemonSets.list() { this.enqueue(daemonSet) }
        }
    }

    package func run() async {
        await runWorkers(name: name, queue: queue, workers: workers, logger: logger) { key in
            try await sync(key)
        }
    }

    private func enqueue(_ daemonSet: KubeObject) {
        let key = Informer.key(of: daemonSet)
        Task { await queue.add(key) }
    }

    private func owner(of pod: KubeObject) -> KubeObject? {
        daemonSets.controller(of: pod, kind: "DaemonSet")
    }

    private func podChanged(_ event: InformerEvent) {
        switch event {
        case .added(let pod):
            guard let daemonSet = owner(of: pod) else { return }
            expectations.creationObserved(Informer.key(of: daemonSet))
            enqueue(daemonSet)
        case .updated(let old, let pod):
            if let daemonSet = owner(of: pod) {
                if pod.deletionTimestamp != nil, old.deletionTimestamp == nil {
                    expectations.deletionObserved(Informer.key(of: daemonSet), podKey: Informer.key(of: pod))
                }
                enqueue(daemonSet)
                // Available minReadySeconds after Ready: look again then.
                let minReady = daemonSet.int(at: ["spec", "minReadySeconds"])
                if minReady > 0, !ReplicaSetPods.isReady(old), ReplicaSetPods.isReady(pod) {
                    queue.add(Informer.key(of: daemonSet), after: .seconds(minReady) + .milliseconds(100))
                }
            }
        case .deleted(let pod):
            guard let daemonSet = owner(of: pod) else { return }
            expectations.deletionObserved(Informer.key(of: daemonSet), podKey: Informer.key(of: pod))
            enqueue(daemonSet)
        }
    }

    // MARK: - Sync

    /// `syncDaemonSet`: pods where they belong, old ones rolled, then the status.
    func sync(_ key: String) async throws {
        guard let daemonSet = daemonSets.get(key: key) else {
            expectations.forget(key)
            return
        }
        let selector = try daemonSet.specSelector()
        let ownership = ReplicaSetOwnership(client: client, resource: .pods)
        let owned = try await ownership.claim(owner: daemonSet, selector: selector,
                                              candidates: pods.list(namespace: daemonSet.namespace).filter { $0.deletionTimestamp == nil }) { () throws(APIError) in
            let fresh = try await client.get(.daemonSets, namespace: daemonSet.namespace, name: daemonSet.name ?? "")
            return fresh?.uid == daemonSet.uid && fresh?.deletionTimestamp == nil
        }
        let hash = DaemonSetNodes.hash(of: daemonSet)
        // `constructHistory`: the revision of the current template (a collision raises the
        // collision count, which changes the hash, and the next sync tries again).
        let existing = history.owned(by: daemonSet)
        let collisionCount = daemonSet.value(at: ["status", "collisionCount"])?.intValue
        if daemonSet.deletionTimestamp == nil,
           case .collision = try await history.revision(for: daemonSet, hash: hash, existing: existing,
                                                        hashLabel: DaemonSetNodes.revisionHashLabel, copyAnnotations: true) {
            var status = daemonSet.value(at: ["status"])?.objectValue ?? [:]
            status["collisionCount"] = .int((collisionCount ?? 0) + 1)
            try await client.writeStatus(.object(status), of: daemonSet, in: .daemonSets)
            return
        }
        let plan = DaemonSetPlan(daemonSet: daemonSet, nodes: nodes.list(), pods: owned, hash: hash, now: clock.now())
        var failure: Error?
        if daemonSet.deletionTimestamp == nil, expectations.satisfied(key) {
            do {
                try await act(on: plan, daemonSet: daemonSet, key: key, hash: hash)
            } catch {
                failure = error
            }
        }
        var status = plan.status(observedGeneration: daemonSet.int(at: ["metadata", "generation"], default: 1))
        if let collisionCount { status = .object((status.objectValue ?? [:]).merging(["collisionCount": .int(collisionCount)]) { $1 }) }
        try await client.writeStatus(status, of: daemonSet, in: .daemonSets)
        // `cleanupHistory`: revisions no pod runs beyond revisionHistoryLimit go.
        let prefix = "\(daemonSet.name ?? "")-"
        let live = Set([prefix + hash] + owned.compactMap { $0.labels[DaemonSetNodes.revisionHashLabel].map { prefix + $0 } })
        try await history.truncate(existing, live: live, limit: daemonSet.int(at: ["spec", "revisionHistoryLimit"], default: 10))
        if let failure { throw failure }
    }

    /// `manage` then `rollingUpdate`: creations and deletions for the placement first; old
    /// pods are replaced only once every node has its pod.
    private func act(on plan: DaemonSetPlan, daemonSet: KubeObject, key: String, hash: String) async throws {
        if !plan.nodesNeedingPods.isEmpty || !plan.podsToDelete.isEmpty {
            try await delete(plan.podsToDelete, of: daemonSet, key: key)
            try await create(on: plan.nodesNeedingPods, of: daemonSet, key: key, hash: hash)
            return
        }
        guard daemonSet.string(at: ["spec", "updateStrategy", "type"]) == "RollingUpdate" else { return }
        try await delete(plan.oldPodsToReplace(), of: daemonSet, key: key)
    }

    private func create(on nodeNames: [String], of daemonSet: KubeObject, key: String, hash: String) async throws {
        guard !nodeNames.isEmpty else { return }
        expectations.expectCreations(key, count: nodeNames.count)
        var firstError: APIError?
        for node in nodeNames {
            do {
                let pod = try await client.create(.pods, namespace: daemonSet.namespace, DaemonSetNodes.pod(of: daemonSet, node: node, hash: hash))
                await client.recordEvent(about: daemonSet, type: "Normal", reason: "SuccessfulCreate",
                                         message: "Created pod: \(pod.name ?? "")", component: Self.component)
            } catch {
                expectations.creationObserved(key)
                if error.code == 403, error.message.contains("because it is being terminated") { continue }
                await client.recordEvent(about: daemonSet, type: "Warning", reason: "FailedCreate",
                                         message: "Error creating: \(error.message)", component: Self.component)
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    private func delete(_ victims: [KubeObject], of daemonSet: KubeObject, key: String) async throws {
        guard !victims.isEmpty else { return }
        expectations.expectDeletions(key, podKeys: victims.map(Informer.key(of:)))
        var firstError: APIError?
        for pod in victims {
            do {
                try await client.delete(.pods, namespace: pod.namespace, name: pod.name ?? "", preconditionUID: pod.uid)
                await client.recordEvent(about: daemonSet, type: "Normal", reason: "SuccessfulDelete",
                                         message: "Deleted pod: \(pod.name ?? "")", component: Self.component)
            } catch {
                expectations.deletionObserved(key, podKey: Informer.key(of: pod))
                if error.code == 404 || error.code == 409 { continue }
                await client.recordEvent(about: daemonSet, type: "Warning", reason: "FailedDelete",
                                         message: "Error deleting: \(error.message)", component: Self.component)
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }
}
