@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
@testable import Controllers
import Foundation
import KubeAPI
import Logging
import Synchronization

/// A test server with the ReplicaSet and Deployment controllers running and a `TestKubelet`
/// standing in for nodes (there is no scheduler or agent in these tests). Everything is
/// stopped, and the store closed and removed, when `body` returns or throws.
func withRolloutCluster<T: Sendable>(readyAfter: Duration? = .zero,
                                     _ body: @Sendable (RolloutCluster) async throws -> T) async throws -> T {
    try await withTestServer { server in
        let client = InProcessClient(service: server.service)
        var logger = Logger(label: "rollout-tests")
        logger.logLevel = .critical
        let informers = Informers(client: client, logger: logger)
        let controllers: [any Controller] = [
            ReplicaSetController(client: client, informers: informers, logger: logger),
            DeploymentController(client: client, informers: informers, logger: logger),
        ]
        let kubelet = TestKubelet(client: client, service: server.service, readyAfter: readyAfter)
        let running = Task {
            await withTaskGroup(of: Void.self) { group in
                let all = informers.all
                for informer in all { group.addTask { await informer.run() } }
                for informer in all { await informer.waitForSync() }
                for controller in controllers { group.addTask { await controller.run() } }
                group.addTask { await kubelet.run() }
            }
        }
        let cluster = RolloutCluster(server: server, client: client, kubelet: kubelet)
        do {
            let result = try await body(cluster)
            running.cancel()
            await running.value
            return result
        } catch {
            running.cancel()
            await running.value
            throw error
        }
    }
}

/// What a rollout test works with.
struct RolloutCluster: Sendable {
    let server: TestServerHandle
    let client: InProcessClient
    let kubelet: TestKubelet

    func pods(_ selector: String = "", namespace: String = "default") async throws -> [KubeObject] {
        try await client.list(.pods, namespace: namespace, labelSelector: LabelSelector(parsing: selector)).items
    }

    /// Active pods (not being deleted).
    func activePods(_ selector: String = "") async throws -> [KubeObject] {
        try await pods(selector).filter { $0.deletionTimestamp == nil }
    }

    func replicaSets(namespace: String = "default") async throws -> [KubeObject] {
        try await client.list(.replicaSets, namespace: namespace).items
    }

    func get(_ ref: ResourceRef, _ name: String, namespace: String = "default") async throws -> KubeObject {
        try await client.store(ref).get(namespace: namespace, name: name)
    }

    func create(_ ref: ResourceRef, yaml: String, namespace: String = "default") async throws -> KubeObject {
        try await client.create(ref, namespace: namespace, KubeObject(fields: try decodeYAML(yaml)))
    }

    /// A merge patch of the main resource.
    @discardableResult
    func patch(_ ref: ResourceRef, _ name: String, _ json: String, namespace: String = "default") async throws -> KubeObject {
        try await client.patch(ref, namespace: namespace, name: name, JSONParser.parse(Array(json.utf8)))
    }

    /// Events about `name`, as "Reason: message".
    func events(about name: String, namespace: String = "default") async throws -> [String] {
        try await client.list(.events, namespace: namespace).items
            .filter { $0.string(at: ["involvedObject", "name"]) == name }
            .sorted { ($0.string(at: ["firstTimestamp"]) ?? "") < ($1.string(at: ["firstTimestamp"]) ?? "") }
            .map { "\($0.string(at: ["reason"]) ?? ""): \($0.string(at: ["message"]) ?? "")" }
    }

    /// Polls `condition` every 50 ms until it holds; throws, with `what`, after `timeout`.
    func wait(_ what: String, timeout: Duration = .seconds(30), _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    private func decodeYAML(_ text: String) throws -> [String: JSONValue] {
        // Manifests here are written as JSON (a subset of YAML) to keep the harness small.
        guard case .object(let fields) = try JSONParser.parse(Array(text.utf8)) else { throw TestFailure("not a JSON object: \(text)") }
        return fields
    }
}

/// The test double of the nodes: binds every new pod to `node-1`, reports it Running (and
/// Ready after `readyAfter`, never when nil), and finishes the deletion of pods marked for
/// deletion, as a kubelet does once their containers stopped.
final class TestKubelet: Sendable {
    let client: InProcessClient
    let service: APIService
    private let readyDelay: Mutex<Duration?>
    private let handled = Mutex<Set<String>>([])

    init(client: InProcessClient, service: APIService, readyAfter: Duration?) {
        self.client = client
        self.service = service
        self.readyDelay = Mutex(readyAfter)
    }

    /// When new pods become Ready (nil: never, until `markReady`).
    var readyAfter: Duration? {
        get { readyDelay.withLock { $0 } }
        set { readyDelay.withLock { $0 = newValue } }
    }

    func run() async {
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
            try? await service.bind(namespace: namespace, name: name, binding: binding, context: service.context())
            return
        }
        guard first("run", pod) else { return }
        try? await setStatus(pod, ready: false)
        guard let delay = readyAfter else { return }
        if delay > .zero { try? await Task.sleep(for: delay) }
        try? await setStatus(pod, ready: true)
    }

    /// Marks a pod Ready (or not) now.
    func setStatus(_ pod: KubeObject, ready: Bool) async throws {
        let now = JSONValue.string(Time.now().description)
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
