import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// kube-controller-manager's EndpointSlice controller (pkg/controller/endpointslice): for each
/// Service with a selector (not ExternalName), `discovery.k8s.io/v1` EndpointSlices listing the
/// pods it selects, labelled `kubernetes.io/service-name` and
/// `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`, owned by the
/// Service (the garbage collector removes them with it). `EndpointSliceReconciler` decides
/// the writes.
///
/// A sync reads the Service's slices from the API rather than from the informer cache, so a
/// slice it wrote a moment ago is never missed (upstream keeps a tracker of its own writes
/// and waits for the cache instead). Pods on a node the server does not know are left out and
/// the Service is synced again with back-off.
struct EndpointSliceController: Controller {
    let name = "endpointslice"
    static let component = "endpoint-slice-controller"

    private let client: any ResourceClient
    private let services: Informer
    private let pods: Informer
    private let nodes: Informer
    private let slices: Informer
    private let queue = WorkQueue()
    private let reconciler: EndpointSliceReconciler
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, settings: ControllerSettings, logger: Logger) {
        self.client = client
        self.services = informers.informer(.services)
        self.pods = informers.informer(.pods)
        self.nodes = informers.informer(.nodes)
        self.slices = informers.informer(.endpointSlices)
        self.reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: max(settings.maxEndpointsPerSlice, 1))
        self.logger = logger
        let queue = self.queue, services = self.services, pods = self.pods
        services.addHandler { event in
            let key = Informer.key(of: event.object)
            Task { await queue.add(key) }
        }
        pods.addHandler { event in
            let keys = Self.serviceKeys(affectedBy: event, services: services)
            if !keys.isEmpty { Task { for key in keys { await queue.add(key) } } }
        }
        // A node that appears (or goes) changes which pods can be listed, and its zone theirs.
        nodes.addHandler { event in
            if case .updated(let old, let new) = event, old.labels[EndpointSliceReconciler.zoneLabel] == new.labels[EndpointSliceReconciler.zoneLabel] {
                return
            }
            let node = event.object.name
            var keys: Set<String> = []
            for pod in pods.list() where pod.string(at: ["spec", "nodeName"]) == node {
                keys.formUnion(Self.serviceKeys(selecting: pod, services: services))
            }
            Task { for key in keys { await queue.add(key) } }
        }
        // Someone else changed or removed one of our slices: put it back.
        slices.addHandler { event in
            let slice = event.object
            guard slice.labels[EndpointSlice.managedByLabel] == EndpointSliceReconciler.controllerName,
                  let service = slice.labels[EndpointSlice.serviceNameLabel] else { return }
            let key = Informer.key(namespace: slice.namespace, name: service)
            Task { await queue.add(key) }
        }
    }

    /// The Services whose endpoints a pod event may change (both controllers' `addPod`,
    /// `updatePod`, `deletePod`): those selecting the pod, before and after an update that
    /// touches a field endpoints are made of; none for any other update.
    static func serviceKeys(affectedBy event: InformerEvent, services: Informer) -> Set<String> {
        switch event {
        case .added(let pod), .deleted(let pod):
            return serviceKeys(selecting: pod, services: services)
        case .updated(let old, let new):
            guard ServiceEndpointRules.endpointFields(old) != ServiceEndpointRules.endpointFields(new) else { return [] }
            return serviceKeys(selecting: old, services: services).union(serviceKeys(selecting: new, services: services))
        }
    }

    static func serviceKeys(selecting pod: KubeObject, services: Informer) -> Set<String> {
        Set(ServiceEndpointRules.services(selecting: pod.labels, namespace: pod.namespace, in: services.list(namespace: pod.namespace))
            .map(Informer.key(of:)))
    }

    func run() async {
        await runWorkers(name: name, queue: queue, workers: 2, logger: logger) { key in try await sync(key) }
    }

    private func sync(_ key: String) async throws {
        // A deleted Service's slices go with it (owner references, garbage collector).
        guard let service = services.get(key: key), ServiceEndpointRules.isManaged(service),
              let selector = ServiceEndpointRules.selector(of: service) else { return }
        let selected = pods.list(namespace: service.namespace).filter { ServiceEndpointRules.selects(selector, $0.labels) }
        var options = ListOptions()
        options.labelSelector = try LabelSelector(
            parsing: "\(EndpointSlice.serviceNameLabel)=\(service.name ?? ""),\(EndpointSlice.managedByLabel)=\(reconciler.controllerName)")
        let existing = try await client.list(.endpointSlices, namespace: service.namespace, options: options).items
            .filter { $0.deletionTimestamp == nil }
        let plan = reconciler.reconcile(service: service, pods: selected, existing: existing) { nodes.get(namespace: nil, name: $0) }
        do {
            try await apply(plan, service: service)
        } catch {
            await client.recordEvent(about: service, type: "Warning", reason: "FailedToUpdateEndpointSlices",
                                     message: "Error updating Endpoint Slices for Service \(key): \(error)", component: Self.component)
            throw error
        }
        if !plan.skippedPods.isEmpty {
            throw EndpointSyncError(message: plan.skippedPods.joined(separator: "; "))
        }
    }

    /// `finalize`: creates (not for a Service being deleted: the garbage collector would race
    /// them), then updates, then deletes.
    private func apply(_ plan: EndpointSlicePlan, service: KubeObject) async throws(APIError) {
        if service.deletionTimestamp == nil {
            for slice in plan.creates {
                do {
                    _ = try await client.create(.endpointSlices, namespace: service.namespace, slice)
                } catch where error.code == 403 && error.message.contains("being terminated") {
                    return // The namespace is going away: nothing more to write.
                }
            }
        }
        for slice in plan.updates {
            _ = try await client.update(.endpointSlices, slice)
        }
        for slice in plan.deletes {
            try await client.delete(.endpointSlices, namespace: slice.namespace, name: slice.name ?? "")
        }
        if !plan.isEmpty {
            logger.debug("endpoint slices synced", metadata: [
                "service": "\(service.namespace ?? "")/\(service.name ?? "")", "created": "\(plan.creates.count)",
                "updated": "\(plan.updates.count)", "deleted": "\(plan.deletes.count)",
            ])
        }
    }
}

/// A sync that did what it could but must run again (a pod's node is not known yet).
struct EndpointSyncError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
