import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's StatefulSet controller (pkg/controller/statefulset,
/// stateful_set_control.go `updateStatefulSet`): pods with stable names `<set>-<ordinal>`,
/// hostnames and the headless Service's subdomain, made and removed in ordinal order one at a
/// time, each waiting for the one before to be Running and Ready (OrderedReady), or all at
/// once (Parallel); a new template rolled out from the highest ordinal down to the
/// partition, one pod at a time (RollingUpdate) or left to the user (OnDelete); templates
/// kept as ControllerRevisions (`kubectl rollout history/undo sts`), and the counts and
/// revisions `kubectl rollout status sts` reads; each pod's claims from `volumeClaimTemplates`
/// (`StatefulSetClaims`). Not implemented: maxUnavailable (alpha upstream).
package struct StatefulSetController: Controller {
    package let name = "statefulset"
    static let component = "statefulset-controller"

    let client: any ResourceClient
    let sets: Informer
    let pods: Informer
    let history: ControllerHistory
    let queue = WorkQueue()
    let logger: Logger
    let clock: ControllerClock
    let workers: Int
    var claims: StatefulSetClaims { StatefulSetClaims(client: client, component: Self.component) }

    package init(client: any ResourceClient, informers: Informers, logger: Logger, workers: Int = 2, clock: ControllerClock = .system) {
        self.client = client
        self.sets = informers.informer(.statefulSets)
        self.pods = informers.informer(.pods)
        let revisions = informers.informer(.controllerRevisions)
        self.history = ControllerHistory(client: client, revisions: revisions)
        self.logger = logger
        self.clock = clock
        self.workers = workers
        let this = self
        sets.addHandler { event in this.enqueue(event.object) }
        pods.addHandler { event in this.podChanged(event) }
        revisions.addHandler { event in
            if let set = this.sets.controller(of: event.object, kind: "StatefulSet") { this.enqueue(set) }
        }
    }

    package func run() async {
        await runWorkers(name: name, queue: queue, workers: workers, logger: logger) { key in
            try await sync(key)
        }
    }

    private func enqueue(_ set: KubeObject) {
        let key = Informer.key(of: set)
        Task { await queue.add(key) }
    }

    private func podChanged(_ event: InformerEvent) {
        guard let set = sets.controller(of: event.object, kind: "StatefulSet") else { return }
        enqueue(set)
        // Available minReadySeconds after Ready: look again then.
        if case .updated(let old, let pod) = event {
            let minReady = set.int(at: ["spec", "minReadySeconds"])
            if minReady > 0, !ReplicaSetPods.isReady(old), ReplicaSetPods.isReady(pod) {
                queue.add(Informer.key(of: set), after: .seconds(minReady) + .milliseconds(100))
            }
        }
    }

    // MARK: - Sync

    /// `sync` and `UpdateStatefulSet`: claim the pods, find or make the revisions, act on the
    /// pods, write the status, trim the history.
    func sync(_ key: String) async throws {
        guard let set = sets.get(key: key) else { return }
        let selector = try set.specSelector()
        let ownership = ReplicaSetOwnership(client: client, resource: .pods)
        let owned = try await ownership.claim(owner: set, selector: selector, candidates: pods.list(namespace: set.namespace)) { () throws(APIError) in
            let fresh = try await client.get(.statefulSets, namespace: set.namespace, name: set.name ?? "")
            return fresh?.uid == set.uid && fresh?.deletionTimestamp == nil
        }
        let members = owned.compactMap { pod in StatefulSetPods.ordinal(of: pod, in: set).map { (ordinal: $0, pod: pod) } }

        // `getStatefulSetRevisions`.
        let existing = history.owned(by: set)
        let collisionCount = set.int(at: ["status", "collisionCount"])
        let hash = PodTemplateHash.compute(template: ControllerHistory.patch(of: set), collisionCount: collisionCount)
        guard case .revision(let update) = try await history.revision(for: set, hash: hash, existing: existing) else {
            // Another template has this name: a new collision count gives a new hash.
            var status = set.value(at: ["status"])?.objectValue ?? [:]
            status["collisionCount"] = .int(collisionCount + 1)
            try await client.writeStatus(.object(status), of: set, in: .statefulSets)
            return
        }
        let currentName = set.string(at: ["status", "currentRevision"])
        let current = existing.first { $0.name == currentName && currentName != update.name } ?? update

        var failure: Error?
        if set.deletionTimestamp == nil {
            do {
                try await act(on: set, members: members, current: current, update: update)
            } catch {
                failure = error
            }
        }
        let status = StatefulSetStatus(set: set, pods: members.map(\.pod), current: current.name ?? "", update: update.name ?? "",
                                       collisionCount: collisionCount, now: clock.now())
        try await client.writeStatus(status.json, of: set, in: .statefulSets)
        let live = Set([current.name ?? "", update.name ?? ""] + members.map { StatefulSetPods.revision(of: $0.pod) })
        try await history.truncate(existing, live: live, limit: set.int(at: ["spec", "revisionHistoryLimit"], default: 10))
        if let failure { throw failure }
    }

    /// The pod work of one sync, stopping where OrderedReady must wait.
    private func act(on set: KubeObject, members: [(ordinal: Int, pod: KubeObject)], current: KubeObject, update: KubeObject) async throws {
        let monotonic = set.string(at: ["spec", "podManagementPolicy"]) != "Parallel"
        let start = StatefulSetPods.startOrdinal(of: set)
        let end = start + Int(set.specReplicas)
        let minReady = set.int(at: ["spec", "minReadySeconds"])
        let now = clock.now()
        func healthy(_ pod: KubeObject) -> Bool {
            pod.deletionTimestamp == nil && StatefulSetPods.isRunningAndReady(pod)
                && StatefulSetPods.isRunningAndAvailable(pod, minReadySeconds: minReady, now: now)
        }
        var replicas: [Int: KubeObject] = [:]
        var condemned: [(ordinal: Int, pod: KubeObject)] = []
        for member in members {
            if member.ordinal >= start, member.ordinal < end { replicas[member.ordinal] = member.pod } else { condemned.append(member) }
        }
        condemned.sort { $0.ordinal > $1.ordinal }
        let rollingUpdate = set.string(at: ["spec", "updateStrategy", "type"]) == "RollingUpdate"
        let partition = Int(set.int(at: ["spec", "updateStrategy", "rollingUpdate", "partition"]))

        // Every ordinal gets its pod, in order.
        for ordinal in start..<max(start, end) {
            guard let pod = replicas[ordinal] else {
                // `newVersionedStatefulSetPod`: below the partition, pods stay at the current revision.
                let revision = rollingUpdate && ordinal < start + partition ? current : update
                try await claims.ensure(for: set, ordinal: ordinal, podName: "\(set.name ?? "")-\(ordinal)")
                let created = try await create(StatefulSetPods.pod(of: set, ordinal: ordinal, template: ControllerHistory.template(of: revision),
                                                                   revision: revision.name ?? ""), of: set)
                if monotonic || !created { return }
                continue
            }
            if pod.deletionTimestamp == nil, StatefulSetPods.hasEnded(pod) {
                // A failed or finished pod is deleted; its successor comes once it is gone.
                try await delete(pod, of: set)
                if monotonic { return }
                continue
            }
            if !healthy(pod) {
                if monotonic { return }
                continue
            }
            if !StatefulSetPods.identityMatches(pod, ordinal: ordinal) {
                _ = try await client.update(.pods, StatefulSetPods.withIdentity(pod, ordinal: ordinal))
                await client.recordEvent(about: set, type: "Normal", reason: "SuccessfulUpdate",
                                         message: "update Pod \(pod.name ?? "") in StatefulSet \(set.name ?? "") successful", component: Self.component)
            }
        }

        // Pods beyond the replicas go, highest ordinal first; OrderedReady one at a time and
        // only while the others are healthy (the first unhealthy one may go).
        let firstUnhealthy = condemned.first { !healthy($0.pod) }?.pod.uid
        for member in condemned {
            if member.pod.deletionTimestamp != nil {
                if monotonic { return }
                continue
            }
            if monotonic, !healthy(member.pod), member.pod.uid != firstUnhealthy { return }
            try await claims.releaseOnScaleDown(member.pod, set: set, ordinal: member.ordinal)
            try await delete(member.pod, of: set)
            if monotonic { return }
        }

        // RollingUpdate: from the highest ordinal down to the partition, the first pod of an
        // old revision is deleted (recreated from the update revision by a later sync); a pod
        // that is not healthy stops the rollout until it is.
        guard rollingUpdate else { return }
        for ordinal in stride(from: end - 1, through: start + partition, by: -1) {
            guard let pod = replicas[ordinal] else { return }
            if StatefulSetPods.revision(of: pod) != update.name, pod.deletionTimestamp == nil {
                logger.debug("terminating pod for update", metadata: ["statefulset": "\(set.namespace ?? "")/\(set.name ?? "")", "pod": "\(pod.name ?? "")"])
                try await delete(pod, of: set)
                return
            }
            if !healthy(pod) { return }
        }
    }

    /// Creates one pod; false when its name is still taken (the old pod is terminating, or
    /// the cache has not seen our own creation yet): the pod's events bring the next sync.
    private func create(_ pod: KubeObject, of set: KubeObject) async throws -> Bool {
        let name = pod.name ?? ""
        do {
            _ = try await client.create(.pods, namespace: set.namespace, pod)
            await client.recordEvent(about: set, type: "Normal", reason: "SuccessfulCreate",
                                     message: "create Pod \(name) in StatefulSet \(set.name ?? "") successful", component: Self.component)
            return true
        } catch where error.code == 409 {
            return false
        } catch {
            if error.code == 403, error.message.contains("because it is being terminated") { return false }
            await client.recordEvent(about: set, type: "Warning", reason: "FailedCreate",
                                     message: "create Pod \(name) in StatefulSet \(set.name ?? "") failed error: \(error.message)",
                                     component: Self.component)
            throw error
        }
    }

    private func delete(_ pod: KubeObject, of set: KubeObject) async throws {
        let name = pod.name ?? ""
        do {
            try await client.delete(.pods, namespace: pod.namespace, name: name, preconditionUID: pod.uid)
            await client.recordEvent(about: set, type: "Normal", reason: "SuccessfulDelete",
                                     message: "delete Pod \(name) in StatefulSet \(set.name ?? "") successful", component: Self.component)
        } catch where error.code == 404 || error.code == 409 {
            return
        } catch {
            await client.recordEvent(about: set, type: "Warning", reason: "FailedDelete",
                                     message: "delete Pod \(name) in StatefulSet \(set.name ?? "") failed error: \(error.message)",
                                     component: Self.component)
            throw error
        }
    }
}
