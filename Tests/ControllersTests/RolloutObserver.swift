import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Synchronization

/// Watches pods and ReplicaSets during a rollout and keeps the extremes: the largest sum of
/// ReplicaSet replicas, the fewest Ready pods not being deleted, and whether pods of two
/// templates ever existed at once.
final class RolloutObserver: Sendable {
    struct Summary: Sendable {
        var maxSpecTotal: Int64 = 0
        var minAvailable = Int.max
        var sawBothRevisions = false
    }

    private struct State {
        var pods: [String: KubeObject] = [:]
        var replicaSets: [String: KubeObject] = [:]
        var summary = Summary()
        var watching = 0
    }

    let cluster: RolloutCluster
    private let state = Mutex(State())

    init(cluster: RolloutCluster) {
        self.cluster = cluster
    }

    var summary: Summary { state.withLock { $0.summary } }

    func waitUntilWatching() async throws {
        try await cluster.wait("the observer's watches") { self.state.withLock { $0.watching == 2 } }
    }

    func run() async throws {
        // Start from a list so the extremes are measured over complete states only.
        let podList = try await cluster.client.list(.pods)
        let replicaSetList = try await cluster.client.list(.replicaSets)
        state.withLock { state in
            for pod in podList.items { state.pods[pod.uid ?? ""] = pod }
            for replicaSet in replicaSetList.items { state.replicaSets[replicaSet.uid ?? ""] = replicaSet }
        }
        let pods = try await cluster.client.watch(.pods, resourceVersion: String(podList.revision))
        let replicaSets = try await cluster.client.watch(.replicaSets, resourceVersion: String(replicaSetList.revision))
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.consume(pods, isPods: true) }
                group.addTask { await self.consume(replicaSets, isPods: false) }
            }
        } onCancel: {
            pods.cancel()
            replicaSets.cancel()
        }
    }

    private func consume(_ watch: ResourceWatch, isPods: Bool) async {
        state.withLock { $0.watching += 1 }
        for await event in watch {
            guard let object = event.object, let uid = object.uid else { continue }
            state.withLock { state in
                if isPods {
                    state.pods[uid] = event.type == "DELETED" ? nil : object
                    let ready = state.pods.values.filter { $0.deletionTimestamp == nil && ReplicaSetPods.isReady($0) }.count
                    state.summary.minAvailable = min(state.summary.minAvailable, ready)
                    let hashes = Set(state.pods.values.compactMap { $0.labels["pod-template-hash"] })
                    if hashes.count > 1 { state.summary.sawBothRevisions = true }
                } else {
                    state.replicaSets[uid] = event.type == "DELETED" ? nil : object
                    let total = state.replicaSets.values.reduce(0) { $0 + $1.specReplicas }
                    state.summary.maxSpecTotal = max(state.summary.maxSpecTotal, total)
                }
            }
        }
    }
}
