import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// Keeps Service `kube-system/kube-dns` and its endpoints. There is no DNS Deployment: every
/// node's agent answers DNS on the first address of its pod CIDR (its bridge address, e.g.
/// 10.42.1.1), so the Service has no selector and `internalTrafficPolicy: Local`, and this
/// controller writes one endpoint per node that has a `spec.podCIDR` (ready when the node is
/// Ready): each node's service proxy then sends DNS to its own agent.
///
/// The Service is k3s' (manifests/coredns.yaml): the `--cluster-dns` address, ports `dns`
/// 53/UDP and `dns-tcp` 53/TCP, labels `k8s-app: kube-dns`, `kubernetes.io/cluster-service`,
/// `kubernetes.io/name: CoreDNS` (the names tools look for); it is created again when deleted.
/// The EndpointSlice `kube-system/kube-dns` is managed by `cluster-dns.swiftlet.io`, so the
/// endpoint-slice controller leaves it alone; the Endpoints object is written too, for older
/// clients, labelled not to be mirrored.
struct ClusterDNSController: Controller {
    let name = "cluster-dns"
    /// A label value may not hold a "/": named like upstream's `endpointslice-controller.k8s.io`.
    static let managedBy = "cluster-dns.swiftlet.io"
    static let namespace = "kube-system"
    static let serviceName = "kube-dns"
    static let key = "\(namespace)/\(serviceName)"
    static let serviceLabels = ["k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"]
    static let ports: [(name: String, proto: String)] = [("dns", "UDP"), ("dns-tcp", "TCP")]

    private let client: any ResourceClient
    private let clusterDNS: String
    private let services: Informer
    private let nodes: Informer
    private let queue = WorkQueue()
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, clusterDNS: String, logger: Logger) {
        self.client = client
        self.clusterDNS = clusterDNS
        self.services = informers.informer(.services)
        self.nodes = informers.informer(.nodes)
        self.logger = logger
        let queue = self.queue
        services.addHandler { event in
            guard Informer.key(of: event.object) == Self.key else { return }
            Task { await queue.add(Self.key) }
        }
        nodes.addHandler { event in
            if case .updated(let old, let new) = event, Self.endpoint(of: old) == Self.endpoint(of: new) { return }
            Task { await queue.add(Self.key) }
        }
        // Someone else changed or removed the slice: put it back.
        informers.informer(.endpointSlices).addHandler { event in
            guard Informer.key(of: event.object) == Self.key else { return }
            Task { await queue.add(Self.key) }
        }
    }

    func run() async {
        await queue.add(Self.key)
        await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { _ in try await sync() }
    }

    /// One node's DNS server: the first address of its pod CIDR, and whether the node is Ready.
    struct Member: Equatable, Sendable {
        let node: String
        let address: String
        let ready: Bool
    }

    static func endpoint(of node: KubeObject) -> Member? {
        guard let cidr = node.string(at: ["spec", "podCIDR"]), let (network, prefix) = IPv4Text.parseCIDR(cidr), prefix <= 30 else {
            return nil
        }
        return Member(node: node.name ?? "", address: IPv4Text.format(network + 1),
                      ready: SchedulerPredicates.readyStatus(of: node) == "True")
    }

    private func sync() async throws(APIError) {
        let service = try await ensureService()
        let members = nodes.list().sorted { ($0.name ?? "") < ($1.name ?? "") }.compactMap(Self.endpoint(of:))
        try await syncSlice(service: service, members: members)
        try await syncEndpoints(service: service, members: members)
    }

    /// The Service, created when missing (at start, or after someone deleted it).
    private func ensureService() async throws(APIError) -> KubeObject {
        if let service = try await client.get(.services, namespace: Self.namespace, name: Self.serviceName) { return service }
        let ports: [JSONValue] = Self.ports.map { port in
            .object(["name": .string(port.name), "port": .int(53), "protocol": .string(port.proto), "targetPort": .int(53)])
        }
        let service = KubeObject(fields: [
            "apiVersion": .string("v1"), "kind": .string("Service"),
            "metadata": .object([
                "name": .string(Self.serviceName), "namespace": .string(Self.namespace),
                "labels": .object(Self.serviceLabels.mapValues { .string($0) }),
            ]),
            "spec": .object([
                "clusterIP": .string(clusterDNS), "clusterIPs": .array([.string(clusterDNS)]),
                "ports": .array(ports), "internalTrafficPolicy": .string("Local"),
            ]),
        ])
        do {
            let created = try await client.create(.services, namespace: Self.namespace, service)
            logger.info("cluster DNS service created", metadata: ["service": "\(Self.key)", "clusterIP": "\(clusterDNS)"])
            return created
        } catch where error.code == 409 {
            if let service = try await client.get(.services, namespace: Self.namespace, name: Self.serviceName) { return service }
            throw error
        } catch {
            logger.error("cannot create the cluster DNS service \(Self.key) on \(clusterDNS): \(error.message)")
            throw error
        }
    }

    private func syncSlice(service: KubeObject, members: [Member]) async throws(APIError) {
        var labels = service.labels
        labels[EndpointSlice.serviceNameLabel] = Self.serviceName
        labels[EndpointSlice.managedByLabel] = Self.managedBy
        let endpoints: [JSONValue] = members.prefix(1000).map { member in
            .object([
                "addresses": .array([.string(member.address)]), "nodeName": .string(member.node),
                "conditions": .object(["ready": .bool(member.ready), "serving": .bool(member.ready), "terminating": .bool(false)]),
            ])
        }
        let ports: [JSONValue] = Self.ports.map { .object(["name": .string($0.name), "port": .int(53), "protocol": .string($0.proto)]) }
        let owner = ServiceEndpointRules.ownerReference(service)
        let current = try await client.get(.endpointSlices, namespace: Self.namespace, name: Self.serviceName)
        try await client.createOrUpdate(.endpointSlices, current: current,
                                        empty: .named(Self.serviceName, namespace: Self.namespace, apiVersion: "discovery.k8s.io/v1",
                                                      kind: "EndpointSlice", extra: ["addressType": .string("IPv4")])) { slice in
            slice.labels = labels
            slice.metadata["ownerReferences"] = .array([owner])
            slice.fields["endpoints"] = .array(endpoints)
            slice.fields["ports"] = .array(ports)
        }
    }

    private func syncEndpoints(service: KubeObject, members: [Member]) async throws(APIError) {
        var labels = service.labels
        labels[ServiceEndpointRules.skipMirrorLabel] = "true"
        func addresses(ready: Bool) -> [JSONValue] {
            members.filter { $0.ready == ready }.map { .object(["ip": .string($0.address), "nodeName": .string($0.node)]) }
        }
        var subset: [String: JSONValue] = [
            "ports": .array(Self.ports.map { .object(["name": .string($0.name), "port": .int(53), "protocol": .string($0.proto)]) }),
        ]
        if !addresses(ready: true).isEmpty { subset["addresses"] = .array(addresses(ready: true)) }
        if !addresses(ready: false).isEmpty { subset["notReadyAddresses"] = .array(addresses(ready: false)) }
        let subsets: JSONValue? = members.isEmpty ? nil : .array([.object(subset)])
        let current = try await client.get(.endpoints, namespace: Self.namespace, name: Self.serviceName)
        try await client.createOrUpdate(.endpoints, current: current,
                                        empty: .named(Self.serviceName, namespace: Self.namespace, apiVersion: "v1", kind: "Endpoints")) { endpoints in
            endpoints.labels = labels
            endpoints.fields["subsets"] = subsets
        }
    }
}
