import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's namespace controller: a namespace with a `deletionTimestamp`
/// has everything in it deleted (pods gracefully, so their agents stop them), and once
/// nothing is left its `kubernetes` finalizer is removed and it is deleted.
/// See https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/namespace/deletion/namespaced_resources_deleter.go
struct NamespaceController: Controller {
    static let finalizer = "kubernetes"

    let name = "namespace"
    private let client: any ResourceClient
    private let namespaces: Informer
    private let queue = WorkQueue()
    private let settings: ControllerSettings
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, settings: ControllerSettings, logger: Logger) {
        self.client = client
        self.namespaces = informers.informer(.namespaces)
        self.settings = settings
        self.logger = logger
        let queue = self.queue
        namespaces.addHandler { event in
            if case .deleted = event { return }
            if event.object.deletionTimestamp != nil { Task { await queue.add(Informer.key(of: event.object)) } }
        }
    }

    func run() async {
        await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in try await sync(name: key) }
    }

    private func sync(name: String) async throws(APIError) {
        guard var namespace = try await client.get(.namespaces, namespace: nil, name: name),
              namespace.deletionTimestamp != nil else { return }
        let remaining = try await deleteContents(of: name)
        if remaining > 0 {
            // Pods stop gracefully; look again shortly (upstream estimates the wait the same way).
            queue.add(name, after: settings.namespaceRecheckPeriod)
            return
        }
        let finalizers = namespace.value(at: ["spec", "finalizers"])?.arrayValue ?? []
        if finalizers.contains(.string(Self.finalizer)) {
            namespace.set(.array(finalizers.filter { $0 != .string(Self.finalizer) }), at: ["spec", "finalizers"])
            // With no finalizer left, this update deletes the namespace (ResourceStore.replace).
            namespace = try await client.update(.namespaces, namespace)
        }
        if (namespace.value(at: ["spec", "finalizers"])?.arrayValue ?? []).isEmpty {
            try await client.delete(.namespaces, namespace: nil, name: name)
        }
    }

    /// Deletes every object of every namespaced resource in `namespace`; returns how many are
    /// still there (pods terminating, objects with finalizers).
    private func deleteContents(of namespace: String) async throws(APIError) -> Int {
        var remaining = 0
        for resource in client.resources where resource.namespaced {
            let ref = ResourceRef(group: resource.group, name: resource.name)
            let items = try await client.list(ref, namespace: namespace).items
            for item in items {
                guard let itemName = item.name else { continue }
                if item.deletionTimestamp == nil {
                    let outcome = try await client.delete(ref, namespace: namespace, name: itemName, preconditionUID: item.uid)
                    if case .pending? = outcome { remaining += 1 }
                } else {
                    remaining += 1
                }
            }
        }
        if remaining > 0 {
            logger.debug("namespace still has contents", metadata: ["namespace": "\(namespace)", "remaining": "\(remaining)"])
        }
        return remaining
    }
}
