import APIMachinery
import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Synchronization

/// The nodes' kubelets for the StatefulSet tests, driven by the pod watch so it sees pods in
/// the order the controller made them: bound pods become Running, and Ready unless held;
/// pods marked for deletion are removed. It records the order of creations and deletions,
/// which is what OrderedReady promises.
final class StatefulSetKubelet: Sendable {
    struct State {
        var created: [String] = []
        var deleted: [String] = []
        var holdNew = false
        var held: Set<String> = []
        var deletedUIDs: Set<String> = []
    }

    let client: InProcessClient
    let kubelet: TestKubelet
    let state = Mutex(State())

    init(client: InProcessClient) {
        self.client = client
        self.kubelet = TestKubelet(client: client, readyAfter: .zero)
    }

    var created: [String] { state.withLock { $0.created } }
    var deleted: [String] { state.withLock { $0.deleted } }

    /// New pods stay Running but not Ready until released.
    func holdNewPods(_ hold: Bool) { state.withLock { $0.holdNew = hold } }

    /// Makes a held pod Ready.
    func release(_ name: String) async throws {
        state.withLock { _ = $0.held.remove(name) }
        if let pod = try await client.get(.pods, namespace: "default", name: name), pod.deletionTimestamp == nil,
           !(pod.string(at: ["spec", "nodeName"]) ?? "").isEmpty {
            try await kubelet.setStatus(pod, ready: true)
        }
    }

    func run() async {
        guard let watch = try? await client.watch(.pods, resourceVersion: nil) else { return }
        await withTaskCancellationHandler {
            for await event in watch {
                guard let pod = event.object, event.type != "DELETED" else { continue }
                await handle(pod, added: event.type == "ADDED")
            }
        } onCancel: {
            watch.cancel()
        }
    }

    private func handle(_ pod: KubeObject, added: Bool) async {
        let name = pod.name ?? ""
        if added {
            state.withLock { state in
                state.created.append(name)
                if state.holdNew { state.held.insert(name) }
            }
        }
        if pod.deletionTimestamp != nil {
            state.withLock { state in
                if state.deletedUIDs.insert(pod.uid ?? "").inserted { state.deleted.append(name) }
            }
            _ = try? await client.delete(.pods, namespace: pod.namespace, name: name, gracePeriodSeconds: 0, preconditionUID: pod.uid)
            return
        }
        // Only a pod that has not started yet is started: a pod a test marked Failed stays so.
        let phase = pod.string(at: ["status", "phase"]) ?? "Pending"
        guard !(pod.string(at: ["spec", "nodeName"]) ?? "").isEmpty, phase == "Pending" else { return }
        let held = state.withLock { $0.held.contains(name) }
        try? await kubelet.setStatus(pod, ready: !held)
    }

    /// Runs `body` with this kubelet watching.
    func running<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let task = Task { await run() }
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        task.cancel()
        await task.value
        return try result.get()
    }
}
