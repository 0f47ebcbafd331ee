import ControllerRuntime
import APIMachinery
import KubeAPI

/// A pod placed on a node in the scheduling cycle, assumed there, to be bound.
struct PendingBinding: Sendable {
    let pod: KubeObject
    let node: String

    var key: String { Informer.key(of: pod) }
    var name: String { pod.name ?? "" }
}

extension Scheduler {
    /// kube-scheduler's binding cycle (pkg/scheduler/schedule_one.go: `go func() {
    /// sched.bindingCycle(...) }`): each placed pod is bound concurrently with the scheduling of
    /// the next, which counts it on its node meanwhile (`assumed`). Waiting for each binding's
    /// write, and then for its Scheduled event's, held the one scheduling worker for two store
    /// commits per pod: a 100-replica Deployment was bound at about 25 pods a second.
    func runBindingCycles() async {
        await withDiscardingTaskGroup { group in
            for await binding in bindings.stream {
                group.addTask { await bind(binding) }
            }
        }
    }

    private func bind(_ binding: PendingBinding) async {
        var metadata: [String: JSONValue] = ["name": .string(binding.name)]
        if let uid = binding.pod.uid { metadata["uid"] = .string(uid) }
        let body = KubeObject(fields: ["metadata": .object(metadata),
                                       "target": .object(["kind": .string("Node"), "name": .string(binding.node)])])
        do {
            try await client.bind(namespace: binding.pod.namespace, name: binding.name, binding: body)
        } catch {
            // Upstream's handleBindingCycleError: forget the assumption; a pod deleted, already
            // bound or replaced meanwhile (404, 409) has nothing left to schedule, any other
            // failure is retried with back-off.
            if let uid = binding.pod.uid { assumed.withLock { _ = $0.removeValue(forKey: uid) } }
            if error.code != 404 && error.code != 409 {
                logger.warning("binding failed", metadata: ["pod": "\(binding.key)", "node": "\(binding.node)", "error": "\(error)"])
                await queue.addRateLimited(binding.key)
            }
            return
        }
        await client.recordEvent(about: binding.pod, type: "Normal", reason: "Scheduled",
                                 message: "Successfully assigned \(binding.pod.namespace ?? "")/\(binding.name) to \(binding.node)",
                                 component: Self.component)
    }
}
