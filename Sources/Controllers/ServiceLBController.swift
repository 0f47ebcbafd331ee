import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// k3s' ServiceLB (pkg/cloudprovider/servicelb.go) without its DaemonSet: every agent's
/// service proxy answers a LoadBalancer Service's ports on the node's own addresses, so this
/// controller only publishes them. A Service of `type: LoadBalancer` with no
/// `spec.loadBalancerClass` (one with a class belongs to that class's controller) gets
/// `status.loadBalancer.ingress` = one `{ip, ipMode: VIP}` per InternalIP of every Ready node,
/// sorted by address; with `externalTrafficPolicy: Local` only of the nodes that run a ready
/// endpoint, as k3s does (the others would drop the traffic). A Service that stops being a
/// LoadBalancer has its addresses cleared. Events as k3s': `UpdatedLoadBalancer`, or
/// `UnAvailableLoadBalancer` when no node is left.
///
/// Not done: k3s' `svccontroller.k3s.cattle.io/enablelb` node pools and its per-node
/// ExternalIP preference (the InternalIP is always published).
struct ServiceLBController: Controller {
    let name = "service-lb"
    static let component = "service-lb-controller"

    private let client: any ResourceClient
    private let services: Informer
    private let nodes: Informer
    private let slices: Informer
    private let queue = WorkQueue()
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, logger: Logger) {
        self.client = client
        self.services = informers.informer(.services)
        self.nodes = informers.informer(.nodes)
        self.slices = informers.informer(.endpointSlices)
        self.logger = logger
        let queue = self.queue, services = self.services
        services.addHandler { event in
            if case .deleted = event { return }
            let key = Informer.key(of: event.object)
            Task { await queue.add(key) }
        }
        nodes.addHandler { event in
            if case .updated(let old, let new) = event, LoadBalancerNodes.member(old) == LoadBalancerNodes.member(new) { return }
            let keys = services.list().filter { Self.isLoadBalancer($0) }.map(Informer.key(of:))
            Task { for key in keys { await queue.add(key) } }
        }
        // Endpoints moving between nodes matter to Services with the Local policy only.
        slices.addHandler { event in
            let slice = event.object
            guard let name = slice.labels[EndpointSlice.serviceNameLabel],
                  let service = services.get(namespace: slice.namespace, name: name),
                  Self.isLoadBalancer(service), service.string(at: ["spec", "externalTrafficPolicy"]) == "Local" else { return }
            let key = Informer.key(of: service)
            Task { await queue.add(key) }
        }
    }

    func run() async {
        await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in try await sync(key) }
    }

    /// A Service this controller balances: `type: LoadBalancer` without a load balancer class.
    static func isLoadBalancer(_ service: KubeObject) -> Bool {
        service.string(at: ["spec", "type"]) == "LoadBalancer" && (service.string(at: ["spec", "loadBalancerClass"]) ?? "").isEmpty
    }

    /// The nodes with a ready endpoint of `service` (its EndpointSlices' `nodeName`).
    private func nodesWithEndpoints(of service: KubeObject) -> Set<String> {
        var names: Set<String> = []
        for slice in slices.list(namespace: service.namespace) where slice.labels[EndpointSlice.serviceNameLabel] == service.name {
            for endpoint in slice.fields["endpoints"]?.arrayValue ?? [] {
                // A missing `ready` condition means ready (discovery/v1 EndpointConditions).
                guard endpoint["conditions"]?["ready"]?.boolValue != false, let node = endpoint["nodeName"]?.stringValue else { continue }
                names.insert(node)
            }
        }
        return names
    }

    /// The `status.loadBalancer` the Service should have.
    func desiredLoadBalancer(for service: KubeObject) -> JSONValue {
        guard Self.isLoadBalancer(service) else { return .object([:]) }
        let local = service.string(at: ["spec", "externalTrafficPolicy"]) == "Local"
        let withEndpoints = local ? nodesWithEndpoints(of: service) : []
        let addresses = LoadBalancerNodes.addresses(of: nodes.list()) { node, _ in !local || withEndpoints.contains(node.name ?? "") }
        guard !addresses.isEmpty else { return .object([:]) }
        return .object(["ingress": .array(addresses.map { .object(["ip": .string($0), "ipMode": .string("VIP")]) })])
    }

    private func sync(_ key: String) async throws(APIError) {
        guard let service = services.get(key: key), service.deletionTimestamp == nil else { return }
        var status = service.value(at: ["status"])?.objectValue ?? [:]
        let current = status["loadBalancer"] ?? .object([:])
        let currentIngress = current["ingress"]?.arrayValue ?? []
        if !Self.isLoadBalancer(service) {
            // Another class's Service, or no longer a LoadBalancer: nothing of ours to keep. A
            // class's controller owns its status; a former LoadBalancer loses its addresses.
            guard service.string(at: ["spec", "type"]) != "LoadBalancer", !currentIngress.isEmpty else { return }
        }
        let desired = desiredLoadBalancer(for: service)
        if current == desired || (currentIngress.isEmpty && desired == .object([:]) && status["loadBalancer"] != nil) { return }
        status["loadBalancer"] = desired
        let updated = try await client.writeStatus(.object(status), of: service, in: .services)
        guard Self.isLoadBalancer(service) else { return }
        let newIngress = desired["ingress"]?.arrayValue ?? []
        if newIngress.isEmpty {
            await client.recordEvent(about: updated, type: "Warning", reason: "UnAvailableLoadBalancer",
                                     message: "There are no available nodes for LoadBalancer", component: Self.component)
        } else {
            await client.recordEvent(about: updated, type: "Normal", reason: "UpdatedLoadBalancer",
                                     message: "Updated LoadBalancer with new IPs: \(Self.goList(currentIngress)) -> \(Self.goList(newIngress))",
                                     component: Self.component)
        }
    }

    /// k3s' `ingressToString` printed with `%v`: `[10.0.0.1 10.0.0.2]`.
    static func goList(_ ingress: [JSONValue]) -> String {
        "[" + ingress.compactMap { $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue }.joined(separator: " ") + "]"
    }
}
