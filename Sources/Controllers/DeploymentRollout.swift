import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// The strategies of the Deployment controller: rolling update, recreate, scaling (also of a
/// paused Deployment), and the cleanup of old ReplicaSets beyond the history limit.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/deployment/rolling.go
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/deployment/recreate.go
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/deployment/sync.go
extension DeploymentController {
    // MARK: - RollingUpdate

    /// `rolloutRolling`: scale the new ReplicaSet up within maxSurge; otherwise scale old ones
    /// down within maxUnavailable; once complete, clean up old ReplicaSets.
    func rolloutRolling(_ state: inout State) async throws {
        try await createNewReplicaSet(&state)
        if try await reconcileNewReplicaSet(&state) {
            return try await syncRolloutStatus(&state)
        }
        if try await reconcileOldReplicaSets(&state) {
            return try await syncRolloutStatus(&state)
        }
        if DeploymentStatus.isComplete(state.deployment, state.deployment.value(at: ["status"])?.objectValue ?? [:]) {
            try await cleanup(&state)
        }
        try await syncRolloutStatus(&state)
    }

    private func reconcileNewReplicaSet(_ state: inout State) async throws -> Bool {
        guard let new = state.new else { return false }
        let replicas = state.deployment.specReplicas
        if new.specReplicas == replicas { return false }
        if new.specReplicas > replicas {
            return try await scale(&state, new, to: replicas)
        }
        return try await scale(&state, new, to: newReplicaSetReplicas(state.deployment, all: state.all, newReplicas: new.specReplicas))
    }

    /// `reconcileOldReplicaSets`: how far old ReplicaSets may shrink while at least
    /// replicas - maxUnavailable pods stay available; unhealthy old replicas go first.
    private func reconcileOldReplicaSets(_ state: inout State) async throws -> Bool {
        let oldCount = DeploymentReplicas.specReplicas(state.old)
        guard oldCount > 0, let new = state.new else { return false }
        let minAvailable = state.deployment.specReplicas - DeploymentReplicas.maxUnavailable(state.deployment)
        let newUnavailable = new.specReplicas - new.int(at: ["status", "availableReplicas"])
        let maxScaledDown = DeploymentReplicas.specReplicas(state.all) - minAvailable - newUnavailable
        guard maxScaledDown > 0 else { return false }
        let cleaned = try await cleanupUnhealthyReplicas(&state, maxCleanup: maxScaledDown)
        let scaledDown = try await scaleDownOldForRollingUpdate(&state, minAvailable: minAvailable)
        return cleaned + scaledDown > 0
    }

    /// Old replicas that are not available cost no availability to remove.
    private func cleanupUnhealthyReplicas(_ state: inout State, maxCleanup: Int64) async throws -> Int64 {
        var total: Int64 = 0
        for replicaSet in DeploymentReplicas.byCreation(state.old) {
            if total >= maxCleanup { break }
            let unhealthy = replicaSet.specReplicas - replicaSet.int(at: ["status", "availableReplicas"])
            guard replicaSet.specReplicas > 0, unhealthy > 0 else { continue }
            let count = min(maxCleanup - total, unhealthy)
            _ = try await scale(&state, replicaSet, to: replicaSet.specReplicas - count)
            total += count
        }
        return total
    }

    private func scaleDownOldForRollingUpdate(_ state: inout State, minAvailable: Int64) async throws -> Int64 {
        let available = DeploymentReplicas.status("availableReplicas", state.all)
        guard available > minAvailable else { return 0 }
        let budget = available - minAvailable
        var total: Int64 = 0
        for replicaSet in DeploymentReplicas.byCreation(state.old) {
            if total >= budget { break }
            // The copy in `state` may have been shrunk by the cleanup above.
            let current = state.old.first { $0.uid == replicaSet.uid } ?? replicaSet
            guard current.specReplicas > 0 else { continue }
            let count = min(current.specReplicas, budget - total)
            _ = try await scale(&state, current, to: current.specReplicas - count)
            total += count
        }
        return total
    }

    // MARK: - Recreate

    /// `rolloutRecreate`: old ReplicaSets to zero, wait until none of their pods runs, then
    /// the new ReplicaSet to the replicas.
    func rolloutRecreate(_ state: inout State) async throws {
        var scaledDown = false
        for replicaSet in DeploymentReplicas.active(state.old) {
            scaledDown = try await scale(&state, replicaSet, to: 0) || scaledDown
        }
        if scaledDown || oldPodsRunning(state) {
            return try await syncRolloutStatus(&state)
        }
        try await createNewReplicaSet(&state)
        if let new = state.new, new.specReplicas != state.deployment.specReplicas {
            _ = try await scale(&state, new, to: state.deployment.specReplicas)
        }
        if DeploymentStatus.isComplete(state.deployment, state.deployment.value(at: ["status"])?.objectValue ?? [:]) {
            try await cleanup(&state)
        }
        try await syncRolloutStatus(&state)
    }

    /// `oldPodsRunning`: an old ReplicaSet still reports replicas, or one of its pods is not
    /// finished (Unknown counts as running).
    private func oldPodsRunning(_ state: State) -> Bool {
        if DeploymentReplicas.status("replicas", state.old) > 0 { return true }
        let oldUIDs = Set(state.old.compactMap(\.uid))
        return pods.list(namespace: state.deployment.namespace).contains { pod in
            guard let owner = pod.controllerRef?.uid, oldUIDs.contains(owner) else { return false }
            let phase = pod.string(at: ["status", "phase"])
            return phase != "Succeeded" && phase != "Failed"
        }
    }

    // MARK: - Scaling

    /// `sync`: a scaling event or a paused Deployment: sizes change, templates do not.
    func syncScaling(_ state: inout State) async throws {
        try await scaleProportionally(&state)
        if state.deployment.value(at: ["spec", "paused"])?.boolValue == true {
            try await cleanup(&state)
        }
        try await writeStatus(&state, DeploymentStatus.calculate(state.deployment, all: state.all, new: state.new, now: clock.now()))
    }

    /// `scale`: with one active ReplicaSet it takes the replicas; a saturated new one lets the
    /// old go to zero; otherwise, mid-rollout, the change is spread over the ReplicaSets in
    /// proportion to their sizes, the leftover to the largest.
    private func scaleProportionally(_ state: inout State) async throws {
        let deployment = state.deployment
        let replicas = deployment.specReplicas
        if let only = activeOrLatest(state) {
            if only.specReplicas != replicas { _ = try await scale(&state, only, to: replicas) }
            return
        }
        if let new = state.new, isSaturated(deployment, new) {
            for replicaSet in DeploymentReplicas.active(state.old) { _ = try await scale(&state, replicaSet, to: 0) }
            return
        }
        guard DeploymentReplicas.isRollingUpdate(deployment) else { return }
        var active = DeploymentReplicas.active(state.all)
        let allowed = replicas > 0 ? replicas + DeploymentReplicas.maxSurge(deployment) : 0
        let toAdd = allowed - DeploymentReplicas.specReplicas(active)
        guard toAdd != 0 else {
            // Sizes are right; the annotations may still need the new replicas.
            for replicaSet in active { _ = try await scale(&state, replicaSet, to: replicaSet.specReplicas) }
            return
        }
        // Largest first; among equals the newer when growing, the older when shrinking.
        active.sort { lhs, rhs in
            if lhs.specReplicas != rhs.specReplicas { return lhs.specReplicas > rhs.specReplicas }
            return toAdd > 0 ? lhs.createdAt > rhs.createdAt : lhs.createdAt < rhs.createdAt
        }
        var sizes: [Int64] = []
        var added: Int64 = 0
        for replicaSet in active {
            let share = DeploymentReplicas.proportion(replicaSet, deployment: deployment, toAdd: toAdd, added: added)
            sizes.append(replicaSet.specReplicas + share)
            added += share
        }
        if let first = sizes.indices.first { sizes[first] = max(sizes[first] + toAdd - added, 0) }
        for (replicaSet, size) in zip(active, sizes) {
            _ = try await scale(&state, replicaSet, to: size)
        }
    }

    /// `FindActiveOrLatest`: the only active ReplicaSet, or with none active the new one or
    /// the newest old one; nil with several active.
    private func activeOrLatest(_ state: State) -> KubeObject? {
        let active = DeploymentReplicas.active(state.all)
        switch active.count {
        case 0: return state.new ?? DeploymentReplicas.byCreation(state.old).last
        case 1: return active[0]
        default: return nil
        }
    }

    /// `IsSaturated`: the new ReplicaSet is sized for and fully available at the replicas.
    private func isSaturated(_ deployment: KubeObject, _ replicaSet: KubeObject) -> Bool {
        let replicas = deployment.specReplicas
        return replicaSet.annotations[DeploymentReplicas.desiredReplicasAnnotation] == String(replicas)
            && replicaSet.int(at: ["status", "availableReplicas"]) == replicas && replicaSet.specReplicas == replicas
    }

    /// `scaleReplicaSet`: a new size and the replica annotations, with a ScalingReplicaSet
    /// event when the size changes. Returns whether the size changed.
    func scale(_ state: inout State, _ replicaSet: KubeObject, to size: Int64) async throws -> Bool {
        let deployment = state.deployment
        var updated = replicaSet
        let resized = replicaSet.specReplicas != size
        let annotated = DeploymentReplicas.setReplicasAnnotations(&updated, desired: deployment.specReplicas,
                                                                 max: deployment.specReplicas + DeploymentReplicas.maxSurge(deployment))
        guard resized || annotated else { return false }
        updated.set(.int(size), at: ["spec", "replicas"])
        let stored = try await client.update(.replicaSets, updated)
        state.replace(stored)
        if resized {
            let direction = size > replicaSet.specReplicas ? "up" : "down"
            await client.recordEvent(about: deployment, type: "Normal", reason: "ScalingReplicaSet",
                                     message: "Scaled \(direction) replica set \(replicaSet.name ?? "") from \(replicaSet.specReplicas) to \(size)",
                                     component: Self.component)
        }
        return resized
    }

    // MARK: - History and status

    /// `cleanupDeployment`: old ReplicaSets beyond `revisionHistoryLimit` are deleted, lowest
    /// revision first, but only those scaled to zero with nothing left running.
    func cleanup(_ state: inout State) async throws {
        guard let limit = state.deployment.value(at: ["spec", "revisionHistoryLimit"])?.intValue else { return }
        let cleanable = state.old.filter { $0.deletionTimestamp == nil }
            .sorted { (DeploymentReplicas.revision($0), $0.createdAt) < (DeploymentReplicas.revision($1), $1.createdAt) }
        let excess = cleanable.count - Int(limit)
        guard excess > 0 else { return }
        for replicaSet in cleanable.prefix(excess) {
            guard replicaSet.int(at: ["status", "replicas"]) == 0, replicaSet.specReplicas == 0,
                  (replicaSet.generation ?? 0) <= replicaSet.int(at: ["status", "observedGeneration"]) else { continue }
            try await client.delete(.replicaSets, namespace: replicaSet.namespace, name: replicaSet.name ?? "",
                                    preconditionUID: replicaSet.uid)
            state.old.removeAll { $0.uid == replicaSet.uid }
        }
    }

    /// `syncRolloutStatus`: writes the status with the Progressing condition moved on, and
    /// looks again when the progress deadline would pass.
    func syncRolloutStatus(_ state: inout State) async throws {
        let now = clock.now()
        let status = DeploymentStatus.rollout(state.deployment, all: state.all, new: state.new, now: now)
        try await writeStatus(&state, status)
        if let delay = DeploymentStatus.deadlineCheck(state.deployment, status, now: now) {
            queue.add(Informer.key(of: state.deployment), after: delay)
        }
    }
}
