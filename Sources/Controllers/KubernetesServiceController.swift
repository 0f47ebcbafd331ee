import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// kube-apiserver's `kubernetes` Service controller and endpoint reconciler
/// (pkg/controlplane/controller/kubernetesservice, pkg/controlplane/reconcilers): Service
/// `default/kubernetes` exists (re-created if deleted) with port `https` 443 forwarding to
/// the API server's port, and its Endpoints and EndpointSlice list the API server's
/// advertised addresses, checked every `apiServerEndpointsInterval`. As upstream's
/// `EndpointsAdapter` writes them: the Endpoints labelled
/// `endpointslice.kubernetes.io/skip-mirror`, the slice named `kubernetes` with only the
/// `kubernetes.io/service-name` label and endpoints that are just ready.
///
/// Alone on its datastore a server lists only its own address. Servers sharing one (etcd) run
/// this controller each, outside the leader election as kube-apiserver does, and list every
/// server whose lease is alive (`APIServerLeases`, upstream's lease reconciler). Then only the
/// periodic round writes the endpoints: a round started by a watch event only recreates what was
/// deleted, so two servers that briefly disagree about an expiring lease cannot answer each
/// other's writes at watch speed.
struct KubernetesServiceController: Controller {
    let name = "kubernetes-service"
    static let namespace = "default"
    static let serviceName = "kubernetes"
    static let key = "\(namespace)/\(serviceName)"
    /// The queue key of the periodic round (a watch event queues `key`).
    static let periodicKey = "periodic"

    private let client: any ResourceClient
    /// This server's address; with `leases`, the others' come from their leases.
    private let ownAddresses: [String]
    private let leases: APIServerLeases?
    private let port: Int
    private let clusterIP: String?
    private let interval: Duration
    private let queue = WorkQueue()
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, settings: ControllerSettings, clock: ControllerClock = .system,
         logger: Logger) {
        self.client = client
        self.ownAddresses = Array(Set(settings.apiServerAddresses)).sorted()
        self.leases = settings.apiServerLeaseIdentity.flatMap { identity in
            settings.apiServerAddresses.first.map {
                APIServerLeases(client: client, address: $0, identity: identity, duration: settings.apiServerLeaseDuration,
                                clock: clock, logger: logger)
            }
        }
        self.port = settings.apiServerPort
        self.clusterIP = IPv4Text.parseCIDR(settings.serviceCIDR).map { IPv4Text.format($0.0 + 1) }
        self.interval = settings.apiServerEndpointsInterval
        self.logger = logger
        let queue = self.queue
        for ref in [ResourceRef.services, .endpointSlices] {
            informers.informer(ref).addHandler { event in
                guard Informer.key(of: event.object) == Self.key else { return }
                Task { await queue.add(Self.key) }
            }
        }
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in
                    try await sync(periodic: key == Self.periodicKey)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    await queue.add(Self.periodicKey)
                    try? await Task.sleep(for: interval)
                }
            }
        }
        guard let leases else { return }
        // Stopping: give up the lease and leave the endpoints (kube-apiserver's RemoveEndpoints
        // on shutdown), outside the cancelled task and for at most a few seconds, so clients
        // move on before the lease would expire.
        let controller = self
        let removal = Task {
            await leases.release()
            let others = (try? await leases.liveAddresses())?.filter { $0 != leases.address } ?? []
            // The last server leaves its address: pods keep a server to try when it comes back.
            guard !others.isEmpty else { return }
            try? await controller.syncEndpoints(others, onlyIfMissing: false)
            try? await controller.syncSlice(others, onlyIfMissing: false)
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await removal.value }
            group.addTask { try? await Task.sleep(for: .seconds(3)) }
            await group.next()
            group.cancelAll()
        }
    }

    private var endpointPort: [String: JSONValue] {
        ["name": .string("https"), "port": .int(Int64(port)), "protocol": .string("TCP")]
    }

    private func sync(periodic: Bool) async throws(APIError) {
        try await syncService()
        var addresses = ownAddresses
        if let leases {
            if periodic { try await leases.renew() }
            addresses = try await leases.liveAddresses()
        }
        // With several servers, a watch event only brings back what was deleted.
        let onlyIfMissing = leases != nil && !periodic
        try await syncEndpoints(addresses, onlyIfMissing: onlyIfMissing)
        try await syncSlice(addresses, onlyIfMissing: onlyIfMissing)
    }

    /// `CreateOrUpdateMasterServiceIfNeeded`: the Service exists and forwards 443 to our port.
    private func syncService() async throws(APIError) {
        let ports: JSONValue = .array([.object([
            "name": .string("https"), "port": .int(443), "protocol": .string("TCP"), "targetPort": .int(Int64(port)),
        ])])
        guard var service = try await client.get(.services, namespace: Self.namespace, name: Self.serviceName) else {
            var spec: [String: JSONValue] = ["ports": ports, "sessionAffinity": .string("None"), "type": .string("ClusterIP")]
            if let clusterIP { spec["clusterIP"] = .string(clusterIP) }
            let service = KubeObject(fields: [
                "apiVersion": .string("v1"), "kind": .string("Service"),
                "metadata": .object([
                    "name": .string(Self.serviceName), "namespace": .string(Self.namespace),
                    "labels": .object(["component": .string("apiserver"), "provider": .string("kubernetes")]),
                ]),
                "spec": .object(spec),
            ])
            do {
                _ = try await client.create(.services, namespace: Self.namespace, service)
            } catch where error.code == 409 {
                return
            }
            return
        }
        if service.value(at: ["spec", "ports"]) != ports {
            service.set(ports, at: ["spec", "ports"])
            _ = try await client.update(.services, service)
        }
    }

    private func syncEndpoints(_ addresses: [String], onlyIfMissing: Bool) async throws(APIError) {
        let subsets: JSONValue = .array([.object([
            "addresses": .array(addresses.map { .object(["ip": .string($0)]) }),
            "ports": .array([.object(endpointPort)]),
        ])])
        let labels = [ServiceEndpointRules.skipMirrorLabel: "true"]
        let current = try await client.get(.endpoints, namespace: Self.namespace, name: Self.serviceName)
        if onlyIfMissing, current != nil { return }
        let wrote = try await client.createOrUpdate(.endpoints, current: current,
                                                    empty: .named(Self.serviceName, namespace: Self.namespace, apiVersion: "v1", kind: "Endpoints")) { endpoints in
            endpoints.labels = labels
            endpoints.fields["subsets"] = subsets
        }
        if wrote, current != nil {
            logger.info("reset the endpoints of the kubernetes service", metadata: ["addresses": "\(addresses)", "port": "\(port)"])
        }
    }

    private func syncSlice(_ addresses: [String], onlyIfMissing: Bool) async throws(APIError) {
        let endpoints: JSONValue = .array(addresses.map {
            .object(["addresses": .array([.string($0)]), "conditions": .object(["ready": .bool(true)])])
        })
        let ports: JSONValue = .array([.object(endpointPort)])
        let labels = [EndpointSlice.serviceNameLabel: Self.serviceName]
        var options = ListOptions()
        options.labelSelector = try LabelSelector(parsing: "\(EndpointSlice.serviceNameLabel)=\(Self.serviceName)")
        let slices = try await client.list(.endpointSlices, namespace: Self.namespace, options: options).items
        // Other slices of this Service are not ours to keep (a stale family after a downgrade).
        for slice in slices where slice.name != Self.serviceName || slice.fields["addressType"]?.stringValue != "IPv4" {
            try await client.delete(.endpointSlices, namespace: Self.namespace, name: slice.name ?? "")
        }
        let current = slices.first { $0.name == Self.serviceName && $0.fields["addressType"]?.stringValue == "IPv4" }
        if onlyIfMissing, current != nil { return }
        try await client.createOrUpdate(.endpointSlices, current: current,
                                        empty: .named(Self.serviceName, namespace: Self.namespace, apiVersion: "discovery.k8s.io/v1",
                                                      kind: "EndpointSlice", extra: ["addressType": .string("IPv4")])) { slice in
            slice.labels = labels
            slice.fields["endpoints"] = endpoints
            slice.fields["ports"] = ports
        }
    }
}
