import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's ReplicaSet controller: keeps `spec.replicas` active pods matching
/// each ReplicaSet's selector, creating them from its template and deleting the surplus, and
/// reports what it sees in `status`. The same engine, made with `ReplicaSetKind.replicationController`,
/// is the replication controller, as upstream's replication manager is this controller with
/// another kind.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/replicaset/replica_set.go
package struct ReplicaSetController: Controller {
    package var name: String { kind.controllerName }
    /// `BurstReplicas`: at most this many creations or deletions per sync.
    static let burstReplicas = 500
    /// `SlowStartInitialBatchSize`: the first batch of creations; each successful batch doubles.
    static let slowStartInitialBatchSize = 1

    /// ReplicaSets, or ReplicationControllers.
    let kind: ReplicaSetKind
    let client: any ResourceClient
    let replicaSets: Informer
    let pods: Informer
    let queue = WorkQueue()
    let expectations = ReplicaSetExpectations()
    let logger: Logger
    let clock: ControllerClock
    let workers: Int

    package init(kind: ReplicaSetKind = .replicaSet, client: any ResourceClient, informers: Informers, logger: Logger, workers: Int = 5,
                 clock: ControllerClock = .system) {
        self.kind = kind
        self.clock = clock
        self.client = client
        self.replicaSets = informers.informer(kind.resource)
        self.pods = informers.informer(.pods)
        self.logger = logger
        self.workers = workers
        let this = self
        replicaSets.addHandler { event in
            if case .deleted(let replicaSet) = event { this.expectations.forget(Informer.key(of: replicaSet)) }
            this.enqueue(event.object)
        }
        pods.addHandler { event in this.podChanged(event) }
    }

    package func run() async {
        await runWorkers(name: name, queue: queue, workers: workers, logger: logger) { key in
            try await sync(key)
        }
    }

    private func enqueue(_ replicaSet: KubeObject) {
        let key = Informer.key(of: replicaSet)
        Task { await queue.add(key) }
    }

    // MARK: - Pod events

    /// The ReplicaSet a pod's controller reference names, if it is one we know with that uid.
    private func owner(of pod: KubeObject) -> KubeObject? {
        replicaSets.controller(of: pod, kind: kind.kind)
    }

    /// ReplicaSets whose selector matches an orphan, which may adopt it.
    private func selecting(_ pod: KubeObject) -> [KubeObject] {
        replicaSets.list(namespace: pod.namespace).filter { replicaSet in
            (try? kind.selector(of: replicaSet))?.matches(pod.labels) ?? false
        }
    }

    /// `addPod`, `updatePod` and `deletePod` of the upstream controller: expectations are
    /// settled and the owner (or, for an orphan, every ReplicaSet that may adopt it) synced.
    private func podChanged(_ event: InformerEvent) {
        switch event {
        case .added(let pod):
            if pod.deletionTimestamp != nil { return podDeleted(pod) }
            if let owner = owner(of: pod) {
                expectations.creationObserved(Informer.key(of: owner))
                enqueue(owner)
            } else if pod.controllerRef == nil {
                selecting(pod).forEach(enqueue)
            }
        case .updated(let old, let pod):
            let labelsChanged = old.labels != pod.labels
            if pod.deletionTimestamp != nil {
                podDeleted(pod)
                if labelsChanged { podDeleted(old) }
                return
            }
            let refChanged = old.controllerRef != pod.controllerRef
            if refChanged, let oldOwner = owner(of: old) { enqueue(oldOwner) }
            if let owner = owner(of: pod) {
                enqueue(owner)
                // A pod turning Ready becomes available minReadySeconds later: look again then.
                let minReady = owner.int(at: ["spec", "minReadySeconds"])
                if minReady > 0, !ReplicaSetPods.isReady(old), ReplicaSetPods.isReady(pod) {
                    queue.add(Informer.key(of: owner), after: .seconds(minReady) + .milliseconds(100))
                }
            } else if pod.controllerRef == nil, labelsChanged || refChanged {
                selecting(pod).forEach(enqueue)
            }
        case .deleted(let pod):
            podDeleted(pod)
        }
    }

    private func podDeleted(_ pod: KubeObject) {
        guard let owner = owner(of: pod) else { return }
        expectations.deletionObserved(Informer.key(of: owner), podKey: Informer.key(of: pod))
        enqueue(owner)
    }

    // MARK: - Sync

    /// `syncReplicaSet`: claim pods, create or delete toward `spec.replicas` when the cache has
    /// caught up with our last actions, then write the status.
    func sync(_ key: String) async throws {
        guard let replicaSet = replicaSets.get(key: key) else {
            expectations.forget(key)
            return
        }
        let needsSync = expectations.satisfied(key)
        let selector = try kind.selector(of: replicaSet)
        let namespacePods = pods.list(namespace: replicaSet.namespace)
        let ownership = ReplicaSetOwnership(client: client, resource: .pods)
        let active = try await ownership.claim(owner: replicaSet, selector: selector,
                                               candidates: namespacePods.filter(ReplicaSetPods.isActive)) { () throws(APIError) in
            // Adopt only for a ReplicaSet that still exists under the same uid and is not going away.
            let fresh = try await client.get(kind.resource, namespace: replicaSet.namespace, name: replicaSet.name ?? "")
            return fresh?.uid == replicaSet.uid && fresh?.deletionTimestamp == nil
        }
        var manageError: ManageError?
        if needsSync, replicaSet.deletionTimestamp == nil {
            manageError = await manageReplicas(active, of: replicaSet, allPods: namespacePods)
        }
        let status = ReplicaSetStatus.calculate(replicaSet, pods: active, manageError: manageError, now: clock.now())
        let updated = try await ReplicaSetStatus.write(status, to: replicaSet, resource: kind.resource, client: client)
        let minReady = replicaSet.int(at: ["spec", "minReadySeconds"])
        if manageError == nil, minReady > 0,
           updated.int(at: ["status", "readyReplicas"]) == replicaSet.specReplicas,
           updated.int(at: ["status", "availableReplicas"]) != replicaSet.specReplicas {
            queue.add(key, after: .seconds(minReady))
        }
        if let manageError { throw manageError }
    }

    /// A failed create or delete; it becomes the ReplicaFailure condition and a retry.
    struct ManageError: Error, CustomStringConvertible {
        /// FailedCreate or FailedDelete.
        let reason: String
        let message: String
        var description: String { message }
    }

    /// `manageReplicas`: the difference between active pods and `spec.replicas`, acted upon.
    private func manageReplicas(_ active: [KubeObject], of replicaSet: KubeObject, allPods: [KubeObject]) async -> ManageError? {
        let key = Informer.key(of: replicaSet)
        let diff = active.count - Int(replicaSet.specReplicas)
        if diff < 0 {
            let count = min(-diff, Self.burstReplicas)
            expectations.expectCreations(key, count: count)
            let (attempted, error) = await slowStartBatch(count: count) { () async -> ManageError? in
                await createPod(for: replicaSet)
            }
            // Creations never attempted will never be observed (failed ones were settled already).
            if attempted < count { expectations.creationObserved(key, count: count - attempted) }
            return error
        }
        if diff > 0 {
            let count = min(diff, Self.burstReplicas)
            let related = relatedPods(of: replicaSet, allPods: allPods)
            let victims = Array(ReplicaSetPods.deletionOrder(active, ranks: ReplicaSetPods.ranks(of: active, related: related)).prefix(count))
            expectations.expectDeletions(key, podKeys: victims.map(Informer.key(of:)))
            return await withTaskGroup(of: ManageError?.self) { group in
                for pod in victims {
                    group.addTask { await deletePod(pod, of: replicaSet) }
                }
                var first: ManageError?
                for await error in group where first == nil { first = error }
                return first
            }
        }
        return nil
    }

    /// Pods of this ReplicaSet and of its siblings (same controller owner, e.g. one
    /// Deployment's old and new ReplicaSets), for ranking by node.
    private func relatedPods(of replicaSet: KubeObject, allPods: [KubeObject]) -> [KubeObject] {
        var family: Set<String> = [replicaSet.uid ?? ""]
        if let ownerUID = replicaSet.controllerRef?.uid {
            for sibling in replicaSets.list(namespace: replicaSet.namespace) where sibling.controllerRef?.uid == ownerUID {
                family.insert(sibling.uid ?? "")
            }
        }
        return allPods.filter { family.contains($0.controllerRef?.uid ?? "-") }
    }

    /// `slowStartBatch`: batches of 1, 2, 4, ... run concurrently, stopping after a batch with
    /// a failure, so a quota or validation error costs one failed request, not hundreds.
    /// Returns how many were attempted and the first failure.
    private func slowStartBatch(count: Int, _ work: @escaping @Sendable () async -> ManageError?) async -> (Int, ManageError?) {
        var remaining = count
        var attempted = 0
        var batch = min(remaining, Self.slowStartInitialBatchSize)
        while batch > 0 {
            let size = batch
            let errors = await withTaskGroup(of: ManageError?.self) { group in
                for _ in 0..<size { group.addTask { await work() } }
                var errors: [ManageError] = []
                for await error in group { if let error { errors.append(error) } }
                return errors
            }
            attempted += size
            if let first = errors.first { return (attempted, first) }
            remaining -= size
            batch = min(2 * size, remaining)
        }
        return (attempted, nil)
    }

    private func createPod(for replicaSet: KubeObject) async -> ManageError? {
        let key = Informer.key(of: replicaSet)
        do {
            let pod = try await client.create(.pods, namespace: replicaSet.namespace, ReplicaSetPods.fromTemplate(of: replicaSet))
            await client.recordEvent(about: replicaSet, type: "Normal", reason: "SuccessfulCreate",
                                     message: "Created pod: \(pod.name ?? "")", component: kind.component)
            return nil
        } catch {
            expectations.creationObserved(key)
            // A namespace being deleted refuses every creation: nothing to report (upstream
            // checks the NamespaceTerminating cause).
            if error.code == 403, error.message.contains("because it is being terminated") { return nil }
            await client.recordEvent(about: replicaSet, type: "Warning", reason: "FailedCreate",
                                     message: "Error creating: \(error.message)", component: kind.component)
            return ManageError(reason: "FailedCreate", message: error.message)
        }
    }

    private func deletePod(_ pod: KubeObject, of replicaSet: KubeObject) async -> ManageError? {
        do {
            // The uid precondition keeps us from deleting a pod recreated under the same name.
            try await client.delete(.pods, namespace: pod.namespace, name: pod.name ?? "", preconditionUID: pod.uid)
            await client.recordEvent(about: replicaSet, type: "Normal", reason: "SuccessfulDelete",
                                     message: "Deleted pod: \(pod.name ?? "")", component: kind.component)
            return nil
        } catch {
            expectations.deletionObserved(Informer.key(of: replicaSet), podKey: Informer.key(of: pod))
            if error.code == 409 { return nil } // a different pod by now: nothing of ours to delete
            await client.recordEvent(about: replicaSet, type: "Warning", reason: "FailedDelete",
                                     message: "Error deleting: \(error.message)", component: kind.component)
            return ManageError(reason: "FailedDelete", message: error.message)
        }
    }
}
