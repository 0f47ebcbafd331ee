import APIMachinery
import APIRegistry
import Controllers
import Foundation
import KubeAPI
import Logging

/// The API in process (`withTestAPI`) with the controller manager running with short
/// durations. There are no agents: tests create Nodes, Leases and pod statuses themselves,
/// acting as the kubelet where one is needed.
package func withControllerCluster<T: Sendable>(settings: ControllerSettings = .forTests,
                                                _ body: @Sendable (ControllerTestCluster) async throws -> T) async throws -> T {
    try await withTestAPI { api in
        try await withControllers(on: api, settings: settings, body)
    }
}

/// Runs the controller manager over `api` (in process, or also served over HTTP) while `body`
/// runs, and stops it before returning.
package func withControllers<T: Sendable>(on api: TestAPI, settings: ControllerSettings = .forTests,
                                          _ body: @Sendable (ControllerTestCluster) async throws -> T) async throws -> T {
    var logger = Logger(label: "test-controllers")
    logger.logLevel = .critical
    let manager = ControllerManager(client: api.client, settings: settings, logger: logger)
    let task = Task { await manager.run() }
    let cluster = ControllerTestCluster(api: api)
    do {
        let result = try await body(cluster)
        task.cancel()
        await task.value
        return result
    } catch {
        task.cancel()
        await task.value
        throw error
    }
}

extension ControllerSettings {
    /// Durations short enough for tests.
    package static var forTests: ControllerSettings {
        var settings = ControllerSettings()
        settings.nodeMonitorPeriod = .milliseconds(200)
        settings.nodeMonitorGracePeriod = .seconds(60)
        settings.podGCPeriod = .milliseconds(300)
        settings.schedulerRetryPeriod = .seconds(2)
        settings.namespaceRecheckPeriod = .milliseconds(200)
        return settings
    }
}

/// What a controller test works with: the API, its client, and builders for the objects an
/// agent would otherwise create.
package struct ControllerTestCluster: Sendable {
    package let api: TestAPI
    package var client: InProcessClient { api.client }

    package init(api: TestAPI) {
        self.api = api
    }

    /// A Node with allocatable resources and a Ready condition, as an agent registers it,
    /// and its Lease renewed now.
    @discardableResult
    package func addNode(_ name: String, cpu: String = "4", memory: String = "8Gi", pods: Int = 110, ready: String = "True",
                 labels: [String: String] = [:], taints: [NodeTaint] = [], lease: Bool = true) async throws -> KubeObject {
        let now = Time.now().description
        var allLabels = ["kubernetes.io/hostname": name, "kubernetes.io/os": "linux"]
        for (key, value) in labels { allLabels[key] = value }
        var spec: [String: JSONValue] = [:]
        if !taints.isEmpty { spec["taints"] = .array(taints.map(\.json)) }
        let resources: JSONValue = .object(["cpu": .string(cpu), "memory": .string(memory), "pods": .string(String(pods))])
        let node = KubeObject(fields: [
            "metadata": .object(["name": .string(name), "labels": .object(allLabels.mapValues { .string($0) })]),
            "spec": .object(spec),
            "status": .object([
                "capacity": resources, "allocatable": resources,
                "conditions": .array([.object([
                    "type": .string("Ready"), "status": .string(ready),
                    "reason": .string(ready == "True" ? "KubeletReady" : "KubeletNotReady"), "message": .string("test"),
                    "lastHeartbeatTime": .string(now), "lastTransitionTime": .string(now),
                ])]),
            ]),
        ])
        let created = try await client.create(.nodes, namespace: nil, node)
        if lease { try await renewLease(name) }
        return created
    }

    /// Creates or renews `kube-node-lease/<node>` as the agent's heartbeat does.
    package func renewLease(_ node: String) async throws {
        let now = Time.now().description
        if var lease = try await client.get(.leases, namespace: "kube-node-lease", name: node) {
            lease.set(.string(now), at: ["spec", "renewTime"])
            _ = try await client.update(.leases, lease)
        } else {
            _ = try await client.create(.leases, namespace: "kube-node-lease", KubeObject(fields: [
                "metadata": .object(["name": .string(node)]),
                "spec": .object(["holderIdentity": .string(node), "leaseDurationSeconds": .int(40), "renewTime": .string(now)]),
            ]))
        }
    }

    /// A pod with one container; `cpu`/`memory` become its requests.
    @discardableResult
    package func addPod(_ name: String, namespace: String = "default", cpu: String? = nil, memory: String? = nil,
                labels: [String: String] = [:], owner: KubeObject? = nil, nodeSelector: [String: String]? = nil,
                tolerations: [JSONValue]? = nil, nodeName: String? = nil, extraSpec: [String: JSONValue] = [:]) async throws -> KubeObject {
        var requests: [String: JSONValue] = [:]
        if let cpu { requests["cpu"] = .string(cpu) }
        if let memory { requests["memory"] = .string(memory) }
        var container: [String: JSONValue] = ["name": .string("app"), "image": .string("busybox")]
        if !requests.isEmpty { container["resources"] = .object(["requests": .object(requests)]) }
        var spec: [String: JSONValue] = ["containers": .array([.object(container)])]
        if let nodeSelector { spec["nodeSelector"] = .object(nodeSelector.mapValues { .string($0) }) }
        if let tolerations { spec["tolerations"] = .array(tolerations) }
        if let nodeName { spec["nodeName"] = .string(nodeName) }
        for (key, value) in extraSpec { spec[key] = value }
        var metadata: [String: JSONValue] = ["name": .string(name)]
        if !labels.isEmpty { metadata["labels"] = .object(labels.mapValues { .string($0) }) }
        if let owner { metadata["ownerReferences"] = .array([Self.ownerReference(to: owner)]) }
        return try await client.create(.pods, namespace: namespace, KubeObject(fields: ["metadata": .object(metadata), "spec": .object(spec)]))
    }

    package static func ownerReference(to owner: KubeObject, controller: Bool = true, blockOwnerDeletion: Bool = true) -> JSONValue {
        .object([
            "apiVersion": .string(owner.apiVersion ?? "v1"), "kind": .string(owner.kind ?? ""),
            "name": .string(owner.name ?? ""), "uid": .string(owner.uid ?? ""),
            "controller": .bool(controller), "blockOwnerDeletion": .bool(blockOwnerDeletion),
        ])
    }

    package func pod(_ name: String, namespace: String = "default") async throws -> KubeObject? {
        try await client.get(.pods, namespace: namespace, name: name)
    }

    /// Events about an object, by reason.
    package func events(about name: String, namespace: String = "default", reason: String) async throws -> [KubeObject] {
        try await client.list(.events, namespace: namespace).items.filter {
            $0.string(at: ["involvedObject", "name"]) == name && $0.string(at: ["reason"]) == reason
        }
    }
}
