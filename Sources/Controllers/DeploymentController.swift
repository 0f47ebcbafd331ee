import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's Deployment controller: one ReplicaSet per pod template, rolled
/// from the old ones to the new one by the Deployment's strategy (RollingUpdate within
/// maxSurge/maxUnavailable, or Recreate), scaled in proportion when the Deployment is scaled
/// mid-rollout, with revisions for `kubectl rollout history/undo` and the status and
/// conditions `kubectl rollout status` reads.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/deployment/deployment_controller.go
package struct DeploymentController: Controller {
    package let name = "deployment"
    static let component = "deployment-controller"

    let client: any ResourceClient
    let deployments: Informer
    let replicaSets: Informer
    let pods: Informer
    let queue = WorkQueue()
    let logger: Logger
    let clock: ControllerClock
    let workers: Int

    package init(client: any ResourceClient, informers: Informers, logger: Logger, workers: Int = 5, clock: ControllerClock = .system) {
        self.clock = clock
        self.client = client
        self.deployments = informers.informer(.deployments)
        self.replicaSets = informers.informer(.replicaSets)
        self.pods = informers.informer(.pods)
        self.logger = logger
        self.workers = workers
        let this = self
        deployments.addHandler { event in this.enqueue(event.object) }
        replicaSets.addHandler { event in this.replicaSetChanged(event) }
        pods.addHandler { event in
            // Recreate waits for the old pods to be gone (`deletePod`).
            guard case .deleted(let pod) = event, let replicaSet = this.replicaSets.controller(of: pod, kind: "ReplicaSet"),
                  let deployment = this.deployments.controller(of: replicaSet, kind: "Deployment"),
                  !DeploymentReplicas.isRollingUpdate(deployment) else { return }
            this.enqueue(deployment)
        }
    }

    package func run() async {
        await runWorkers(name: name, queue: queue, workers: workers, logger: logger) { key in
            try await sync(key)
        }
    }

    private func enqueue(_ deployment: KubeObject) {
        let key = Informer.key(of: deployment)
        Task { await queue.add(key) }
    }

    /// `addReplicaSet`, `updateReplicaSet`, `deleteReplicaSet`: the owning Deployment, or for
    /// an orphan every Deployment that may adopt it, is synced.
    private func replicaSetChanged(_ event: InformerEvent) {
        let replicaSet = event.object
        if case .updated(let old, _) = event, old.controllerRef != replicaSet.controllerRef,
           let previous = deployments.controller(of: old, kind: "Deployment") {
            enqueue(previous)
        }
        if let deployment = deployments.controller(of: replicaSet, kind: "Deployment") {
            enqueue(deployment)
        } else if replicaSet.controllerRef == nil {
            if case .deleted = event { return }
            for deployment in deployments.list(namespace: replicaSet.namespace)
            where (try? deployment.specSelector())?.matches(replicaSet.labels) ?? false {
                enqueue(deployment)
            }
        }
    }

    // MARK: - Sync

    /// `syncDeployment`.
    func sync(_ key: String) async throws {
        guard var deployment = deployments.get(key: key) else { return }
        let selector = try deployment.specSelector()
        let ownership = ReplicaSetOwnership(client: client, resource: .replicaSets)
        let owned = try await ownership.claim(owner: deployment, selector: selector,
                                              candidates: replicaSets.list(namespace: deployment.namespace)) { () throws(APIError) in
            let fresh = try await client.get(.deployments, namespace: deployment.namespace, name: deployment.name ?? "")
            return fresh?.uid == deployment.uid && fresh?.deletionTimestamp == nil
        }
        if deployment.deletionTimestamp != nil {
            var state = try await rolloutState(deployment, owned)
            try await writeStatus(&state, DeploymentStatus.calculate(state.deployment, all: state.all, new: state.new, now: clock.now()))
            return
        }
        deployment = try await checkPausedConditions(deployment)
        var state = try await rolloutState(deployment, owned)
        if deployment.value(at: ["spec", "paused"])?.boolValue == true || isScalingEvent(state) {
            return try await syncScaling(&state)
        }
        if DeploymentReplicas.isRollingUpdate(deployment) {
            try await rolloutRolling(&state)
        } else {
            try await rolloutRecreate(&state)
        }
    }

    /// A Deployment with its ReplicaSets during one sync; writes replace the copies here so a
    /// second write in the same sync does not conflict with the first.
    struct State {
        var deployment: KubeObject
        var new: KubeObject?
        var old: [KubeObject]
        var all: [KubeObject] { old + (new.map { [$0] } ?? []) }

        mutating func replace(_ replicaSet: KubeObject) {
            if replicaSet.uid == new?.uid { new = replicaSet }
            old = old.map { $0.uid == replicaSet.uid ? replicaSet : $0 }
        }
    }

    /// `getAllReplicaSetsAndSyncRevision` without creating: the new ReplicaSet (the oldest
    /// whose template is the Deployment's, its annotations brought up to date), if any, and
    /// the old ones. The Deployment gets the new ReplicaSet's revision.
    func rolloutState(_ deployment: KubeObject, _ owned: [KubeObject]) async throws -> State {
        let sorted = DeploymentReplicas.byCreation(owned)
        let template = deployment.value(at: ["spec", "template"])
        let existing = sorted.first { PodTemplateHash.equalIgnoringHash($0.value(at: ["spec", "template"]), template) }
        var state = State(deployment: deployment, new: existing, old: sorted.filter { $0.uid != existing?.uid })
        let newRevision = DeploymentReplicas.maxRevision(state.old) + 1
        let now = clock.now()
        if var replicaSet = existing {
            let annotationsChanged = DeploymentReplicas.setNewReplicaSetAnnotations(&replicaSet, deployment: deployment,
                                                                                    newRevision: newRevision, exists: true)
            let minReady = deployment.value(at: ["spec", "minReadySeconds"]) ?? .int(0)
            let minReadyChanged = (replicaSet.value(at: ["spec", "minReadySeconds"]) ?? .int(0)).intValue != minReady.intValue
            if minReadyChanged { replicaSet.set(minReady, at: ["spec", "minReadySeconds"]) }
            if annotationsChanged || minReadyChanged {
                state.new = try await client.update(.replicaSets, replicaSet)
            }
            var status = deployment.value(at: ["status"])?.objectValue ?? [:]
            if DeploymentStatus.condition(.object(status), "Progressing") == nil {
                DeploymentStatus.set(&status, DeploymentStatus.make(
                    "Progressing", "True", reason: DeploymentStatus.foundNewReplicaSet,
                    message: "Found new replica set \"\(replicaSet.name ?? "")\"", now: now))
            }
            try await setRevision(&state, DeploymentReplicas.revision(state.new ?? replicaSet))
            try await writeStatus(&state, status)
        }
        return state
    }

    /// The rest of `getNewReplicaSet` when there is no new ReplicaSet: creates
    /// `<deployment>-<hash>`, sized by `newReplicaSetReplicas`.
    func createNewReplicaSet(_ state: inout State) async throws {
        guard state.new == nil else { return }
        state.new = try await createReplicaSet(&state, revision: DeploymentReplicas.maxRevision(state.old) + 1, now: clock.now())
    }

    private func createReplicaSet(_ state: inout State, revision: Int64, now: Date) async throws -> KubeObject {
        let deployment = state.deployment
        var template = deployment.value(at: ["spec", "template"]) ?? .object([:])
        let hash = PodTemplateHash.compute(template: template, collisionCount: deployment.value(at: ["status", "collisionCount"])?.intValue)
        template.set(.string(hash), at: ["metadata", "labels", PodTemplateHash.label][...])
        var selector = deployment.value(at: ["spec", "selector"]) ?? .object([:])
        selector.set(.string(hash), at: ["matchLabels", PodTemplateHash.label][...])
        let name = "\(deployment.name ?? "")-\(hash)"
        var replicaSet = KubeObject(fields: [
            "apiVersion": .string("apps/v1"), "kind": .string("ReplicaSet"),
            "metadata": .object([
                "name": .string(name), "namespace": .string(deployment.namespace ?? ""),
                "labels": template["metadata"]?["labels"] ?? .object([:]),
                "ownerReferences": .array([OwnerRef.controllerRef(to: deployment)]),
            ]),
            "spec": .object([
                "replicas": .int(0), "minReadySeconds": deployment.value(at: ["spec", "minReadySeconds"]) ?? .int(0),
                "selector": selector, "template": template,
            ]),
        ])
        let replicas = newReplicaSetReplicas(deployment, all: state.all, newReplicas: 0)
        replicaSet.set(.int(replicas), at: ["spec", "replicas"])
        DeploymentReplicas.setNewReplicaSetAnnotations(&replicaSet, deployment: deployment, newRevision: revision, exists: false)

        var status = deployment.value(at: ["status"])?.objectValue ?? [:]
        let created: KubeObject
        do {
            created = try await client.create(.replicaSets, namespace: deployment.namespace, replicaSet)
        } catch where error.code == 409 {
            // Ours already (a stale cache)? Then it is the new ReplicaSet. Otherwise a hash
            // collision: count it, so the next attempt hashes to another name.
            if let found = try await client.get(.replicaSets, namespace: deployment.namespace, name: name),
               found.controllerRef?.uid == deployment.uid,
               PodTemplateHash.equalIgnoringHash(found.value(at: ["spec", "template"]), deployment.value(at: ["spec", "template"])) {
                return found
            }
            status["collisionCount"] = .int((status["collisionCount"]?.intValue ?? 0) + 1)
            try await writeStatus(&state, status)
            throw error
        } catch {
            if DeploymentStatus.hasProgressDeadline(deployment) {
                DeploymentStatus.set(&status, DeploymentStatus.make("ReplicaFailure", "True", reason: DeploymentStatus.failedReplicaSetCreate,
                                                                    message: error.message, now: now))
                try await writeStatus(&state, status)
            }
            throw error
        }
        if replicas > 0 {
            await client.recordEvent(about: deployment, type: "Normal", reason: "ScalingReplicaSet",
                                     message: "Scaled up replica set \(name) from 0 to \(replicas)", component: Self.component)
        }
        if DeploymentStatus.hasProgressDeadline(deployment) {
            DeploymentStatus.set(&status, DeploymentStatus.make("Progressing", "True", reason: DeploymentStatus.newReplicaSetCreated,
                                                                message: "Created new replica set \"\(name)\"", now: now))
        }
        try await setRevision(&state, revision)
        try await writeStatus(&state, status)
        return created
    }

    /// `NewRSNewReplicas`: Recreate scales the new ReplicaSet to the replicas at once; a
    /// rolling update adds up to maxSurge over the replicas in total.
    func newReplicaSetReplicas(_ deployment: KubeObject, all: [KubeObject], newReplicas: Int64) -> Int64 {
        let replicas = deployment.specReplicas
        guard DeploymentReplicas.isRollingUpdate(deployment) else { return replicas }
        let current = DeploymentReplicas.specReplicas(all)
        let maxTotal = replicas + DeploymentReplicas.fenceposts(deployment).surge
        if current >= maxTotal { return newReplicas }
        return newReplicas + min(maxTotal - current, replicas - newReplicas)
    }

    // MARK: - Writes

    /// `SetDeploymentRevision`: the Deployment's revision annotation. Kubernetes writes it
    /// through the status subresource, whose strategy keeps metadata changes; ours keeps only
    /// the status, so it is a patch of the annotation.
    func setRevision(_ state: inout State, _ revision: Int64) async throws {
        let text = String(revision)
        guard state.deployment.annotations[DeploymentReplicas.revisionAnnotation] != text else { return }
        let patch: JSONValue = .object(["metadata": .object([
            "annotations": .object([DeploymentReplicas.revisionAnnotation: .string(text)]),
            "resourceVersion": .string(state.deployment.resourceVersion ?? ""),
        ])])
        state.deployment = try await client.patch(.deployments, namespace: state.deployment.namespace,
                                                  name: state.deployment.name ?? "", patch)
    }

    /// Writes `status` when it differs from the Deployment's.
    func writeStatus(_ state: inout State, _ status: [String: JSONValue]) async throws {
        state.deployment = try await client.writeStatus(.object(status), of: state.deployment, in: .deployments)
    }

    /// `checkPausedConditions`: Progressing becomes Unknown with DeploymentPaused while paused,
    /// DeploymentResumed once resumed (not over a ProgressDeadlineExceeded).
    private func checkPausedConditions(_ deployment: KubeObject) async throws -> KubeObject {
        guard DeploymentStatus.hasProgressDeadline(deployment) else { return deployment }
        let current = DeploymentStatus.condition(deployment.value(at: ["status"]), "Progressing")
        if current?["reason"]?.stringValue == DeploymentStatus.timedOut { return deployment }
        let pausedShown = current?["reason"]?.stringValue == DeploymentStatus.paused
        let paused = deployment.value(at: ["spec", "paused"])?.boolValue == true
        var status = deployment.value(at: ["status"])?.objectValue ?? [:]
        if paused && !pausedShown {
            DeploymentStatus.set(&status, DeploymentStatus.make("Progressing", "Unknown", reason: DeploymentStatus.paused,
                                                                message: "Deployment is paused", now: clock.now()))
        } else if !paused && pausedShown {
            DeploymentStatus.set(&status, DeploymentStatus.make("Progressing", "Unknown", reason: DeploymentStatus.resumed,
                                                                message: "Deployment is resumed", now: clock.now()))
        } else {
            return deployment
        }
        var state = State(deployment: deployment, new: nil, old: [])
        try await writeStatus(&state, status)
        return state.deployment
    }

    /// `isScalingEvent`: an active ReplicaSet's desired-replicas annotation differs from the
    /// Deployment's replicas, so this sync only scales.
    private func isScalingEvent(_ state: State) -> Bool {
        DeploymentReplicas.active(state.all).contains { replicaSet in
            guard let desired = replicaSet.annotations[DeploymentReplicas.desiredReplicasAnnotation].flatMap({ Int64($0) }) else { return false }
            return desired != state.deployment.specReplicas
        }
    }
}
