import APIMachinery
import APIRegistry
import Controllers
import Foundation
import KubeAPI
import Logging

/// The API in process with the ReplicaSet, replication and Deployment controllers running and a
/// `TestKubelet` standing in for nodes (there is no scheduler or agent in these tests).
/// Everything is stopped, and the store closed and removed, when `body` returns or throws.
package func withRolloutCluster<T: Sendable>(readyAfter: Duration? = .zero, clock: TestClock = TestClock(),
                                             _ body: @Sendable (RolloutCluster) async throws -> T) async throws -> T {
    try await withTestAPI { api in
        try await withRolloutControllers(on: api, readyAfter: readyAfter, clock: clock, body)
    }
}

/// Runs the ReplicaSet, replication and Deployment controllers and a `TestKubelet` over `api` (in process,
/// or also served over HTTP) while `body` runs, and stops them before returning.
package func withRolloutControllers<T: Sendable>(on api: TestAPI, readyAfter: Duration? = .zero, clock: TestClock = TestClock(),
                                                 _ body: @Sendable (RolloutCluster) async throws -> T) async throws -> T {
    let client = api.client
    var logger = Logger(label: "rollout-tests")
    logger.logLevel = .critical
    let informers = Informers(client: client, logger: logger)
    let controllers: [any Controller] = [
        ReplicaSetController(client: client, informers: informers, logger: logger, clock: clock.controllerClock),
        ReplicaSetController(kind: .replicationController, client: client, informers: informers, logger: logger, clock: clock.controllerClock),
        DeploymentController(client: client, informers: informers, logger: logger, clock: clock.controllerClock),
    ]
    let kubelet = TestKubelet(client: client, readyAfter: readyAfter, clock: clock)
    let running = Task {
        await withTaskGroup(of: Void.self) { group in
            let all = informers.all
            for informer in all { group.addTask { await informer.run() } }
            for informer in all { await informer.waitForSync() }
            for controller in controllers { group.addTask { await controller.run() } }
            group.addTask { await kubelet.run() }
        }
    }
    let cluster = RolloutCluster(api: api, kubelet: kubelet, clock: clock)
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

/// What a rollout test works with.
package struct RolloutCluster: Sendable {
    package let api: TestAPI
    package let kubelet: TestKubelet
    /// The controllers' and the kubelet's clock.
    package let clock: TestClock
    package var client: InProcessClient { api.client }

    package init(api: TestAPI, kubelet: TestKubelet, clock: TestClock) {
        self.api = api
        self.kubelet = kubelet
        self.clock = clock
    }

    package func pods(_ selector: String = "", namespace: String = "default") async throws -> [KubeObject] {
        try await client.list(.pods, namespace: namespace, labelSelector: LabelSelector(parsing: selector)).items
    }

    /// Active pods (not being deleted).
    package func activePods(_ selector: String = "") async throws -> [KubeObject] {
        try await pods(selector).filter { $0.deletionTimestamp == nil }
    }

    package func replicaSets(namespace: String = "default") async throws -> [KubeObject] {
        try await client.list(.replicaSets, namespace: namespace).items
    }

    /// The ReplicaSets a Deployment controls (by owner reference), oldest revision
    /// (`deployment.kubernetes.io/revision`) first.
    package func replicaSets(of deployment: String, namespace: String = "default") async throws -> [KubeObject] {
        let uid = try await get(.deployments, deployment, namespace: namespace).uid
        func controlled(_ replicaSet: KubeObject) -> Bool {
            (replicaSet.value(at: ["metadata", "ownerReferences"])?.arrayValue ?? []).contains {
                $0["controller"]?.boolValue == true && $0["uid"]?.stringValue == uid
            }
        }
        func revision(_ replicaSet: KubeObject) -> Int64 {
            replicaSet.annotations["deployment.kubernetes.io/revision"].flatMap { Int64($0) } ?? 0
        }
        return try await replicaSets(namespace: namespace).filter(controlled).sorted { revision($0) < revision($1) }
    }

    package func get(_ ref: ResourceRef, _ name: String, namespace: String = "default") async throws -> KubeObject {
        try await client.store(ref).get(namespace: namespace, name: name)
    }

    package func create(_ ref: ResourceRef, yaml: String, namespace: String = "default") async throws -> KubeObject {
        try await client.create(ref, namespace: namespace, KubeObject(fields: try decodeYAML(yaml)))
    }

    /// A merge patch of the main resource.
    @discardableResult
    package func patch(_ ref: ResourceRef, _ name: String, _ json: String, namespace: String = "default") async throws -> KubeObject {
        try await client.patch(ref, namespace: namespace, name: name, JSONParser.parse(Array(json.utf8)))
    }

    /// Events about `name`, as "Reason: message".
    package func events(about name: String, namespace: String = "default") async throws -> [String] {
        try await client.list(.events, namespace: namespace).items
            .filter { $0.string(at: ["involvedObject", "name"]) == name }
            .sorted { ($0.string(at: ["firstTimestamp"]) ?? "") < ($1.string(at: ["firstTimestamp"]) ?? "") }
            .map { "\($0.string(at: ["reason"]) ?? ""): \($0.string(at: ["message"]) ?? "")" }
    }

    /// Polls `condition` every 50 ms until it holds; throws, with `what`, after `timeout` (long:
    /// a loaded machine's stalls, see `eventually`; a passing test never waits for it).
    package func wait(_ what: String, timeout: Duration = .seconds(90), _ condition: @Sendable () async throws -> Bool) async throws {
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
