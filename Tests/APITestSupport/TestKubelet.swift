import APIMachinery
import APIRegistry
import Foundation
import KubeAPI
import Synchronization

/// The test double of the nodes: binds every new pod to `node-1`, reports it Running (and
/// Ready after `readyAfter`, never when nil), and finishes the deletion of pods marked for
/// deletion, as a kubelet does once their containers stopped.
package final class TestKubelet: Sendable {
    package let client: InProcessClient
    private let readyDelay: Mutex<Duration?>
    private let handled = Mutex<Set<String>>([])
    /// The time written into pod conditions (the controllers' clock).
    private let clock: TestClock

    package init(client: InProcessClient, readyAfter: Duration?, clock: TestClock = TestClock()) {
        self.client = client
        self.clock = clock
        self.readyDelay = Mutex(readyAfter)
    }

    /// When new pods become Ready (nil: never, until `markReady`).
    package var readyAfter: Duration? {
        get { readyDelay.withLock { $0 } }
        set { readyDelay.withLock { $0 = newValue } }
    }

    package func run() async {
        guard let watch = try? await client.watch(.pods, resourceVersion: nil) else { return }
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                for await event in watch {
                    guard let pod = event.object, event.type != "DELETED" else { continue }
                    group.addTask { await self.handle(pod) }
                }
            }
        } onCancel: {
            watch.cancel()
        }
    }

    /// Whether this is the first time `step` is taken for `pod`.
    private func first(_ step: String, _ pod: KubeObject) -> Bool {
        handled.withLock { $0.insert("\(pod.uid ?? ""):\(step)").inserted }
    }

    private func handle(_ pod: KubeObject) async {
        let name = pod.name ?? "", namespace = pod.namespace
        if pod.deletionTimestamp != nil {
            guard first("delete", pod) else { return }
            try? await client.delete(.pods, namespace: namespace, name: name, gracePeriodSeconds: 0, preconditionUID: pod.uid)
            return
        }
        if (pod.string(at: ["spec", "nodeName"]) ?? "").isEmpty {
            guard first("bind", pod) else { return }
            let binding = KubeObject(fields: ["metadata": .object(["name": .string(name)]),
                                              "target": .object(["kind": .string("Node"), "name": .string("node-1")])])
            try? await client.bind(namespace: namespace, name: name, binding: binding)
            return
        }
        guard first("run", pod) else { return }
        try? await setStatus(pod, ready: false)
        guard let delay = readyAfter else { return }
        if delay > .zero { try? await Task.sleep(for: delay) }
        try? await setStatus(pod, ready: true)
    }

    /// Marks a pod Ready (or not) now.
    package func setStatus(_ pod: KubeObject, ready: Bool) async throws {
        let now = JSONValue.string(Time(clock.now()).description)
        let flag = JSONValue.string(ready ? "True" : "False")
        let containers = (pod.value(at: ["spec", "containers"])?.arrayValue ?? []).map { container in
            JSONValue.object(["name": container["name"] ?? .string(""), "image": container["image"] ?? .string(""), "imageID": .string(""),
                              "ready": .bool(ready), "started": .bool(true), "restartCount": .int(0),
                              "state": .object(["running": .object(["startedAt": now])])])
        }
        let status: JSONValue = .object(["status": .object([
            "phase": .string("Running"), "hostIP": .string("10.0.0.1"), "podIP": .string("10.42.0.2"), "startTime": now,
            "conditions": .array(["PodScheduled", "Initialized", "ContainersReady", "Ready"].map { type in
                .object(["type": .string(type), "status": type == "Ready" || type == "ContainersReady" ? flag : .string("True"),
                         "lastTransitionTime": now])
            }),
            "containerStatuses": .array(containers),
        ])])
        _ = try await client.patch(.pods, namespace: pod.namespace, name: pod.name ?? "", status, subresource: "status")
    }
}
