import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// Publishes where swiftlet's Ingresses are served: every agent's ingress proxy serves the
/// Ingresses of swiftlet's class on the node's own addresses (k3s: Traefik behind ServiceLB on
/// every node), so each such Ingress gets `status.loadBalancer.ingress` = one `{ip}` per
/// InternalIP of every Ready node not labelled `node.swiftlet.io/ingress=disabled`, sorted by
/// address (`kubectl get ingress` shows them as ADDRESS). What ingress-nginx's status sync does
/// with its pods' nodes (internal/ingress/status), done here once for the cluster rather than
/// by a leader among the proxies.
///
/// An Ingress is swiftlet's when `IngressClass.servedBySwiftlet` says so (its class's
/// controller is `swiftlet.io/ingress`, or the legacy annotation is `swiftlet`); Ingresses of
/// other classes are left alone, their status is their controller's. Nodes coming, going,
/// turning Ready or NotReady, changing addresses or the label, and class changes all resync.
struct IngressStatusController: Controller {
    let name = "ingress-status"

    private let client: any ResourceClient
    private let ingresses: Informer
    private let classes: Informer
    private let nodes: Informer
    private let queue = WorkQueue()
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, logger: Logger) {
        self.client = client
        self.ingresses = informers.informer(.ingresses)
        self.classes = informers.informer(.ingressClasses)
        self.nodes = informers.informer(.nodes)
        self.logger = logger
        let queue = self.queue, ingresses = self.ingresses
        ingresses.addHandler { event in
            if case .deleted = event { return }
            let key = Informer.key(of: event.object)
            Task { await queue.add(key) }
        }
        @Sendable func all() {
            let keys = ingresses.list().map(Informer.key(of:))
            Task { for key in keys { await queue.add(key) } }
        }
        classes.addHandler { event in
            if case .updated(let old, let new) = event, old.fields["spec"] == new.fields["spec"] { return }
            all()
        }
        nodes.addHandler { event in
            if case .updated(let old, let new) = event, LoadBalancerNodes.member(old) == LoadBalancerNodes.member(new) { return }
            all()
        }
    }

    func run() async {
        await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in try await sync(key) }
    }

    /// Whether swiftlet serves `ingress`, with the classes as the informer has them.
    func isServed(_ ingress: KubeObject) -> Bool {
        IngressClass.servedBySwiftlet(className: ingress.string(at: ["spec", "ingressClassName"]),
                                      legacyAnnotation: ingress.annotations[IngressClass.legacyClassAnnotation]) { name in
            classes.get(namespace: nil, name: name)?.string(at: ["spec", "controller"])
        }
    }

    /// The status swiftlet gives its Ingresses now.
    func desiredLoadBalancer() -> JSONValue {
        let addresses = LoadBalancerNodes.addresses(of: nodes.list()) { _, member in member.servesIngress }
        guard !addresses.isEmpty else { return .object([:]) }
        return .object(["ingress": .array(addresses.map { .object(["ip": .string($0)]) })])
    }

    private func sync(_ key: String) async throws(APIError) {
        guard let ingress = ingresses.get(key: key), ingress.deletionTimestamp == nil, isServed(ingress) else { return }
        var status = ingress.value(at: ["status"])?.objectValue ?? [:]
        let loadBalancer = desiredLoadBalancer()
        if status["loadBalancer"] == loadBalancer { return }
        let before = status["loadBalancer"]?["ingress"]?.arrayValue?.count ?? 0
        status["loadBalancer"] = loadBalancer
        try await client.writeStatus(.object(status), of: ingress, in: .ingresses)
        logger.debug("ingress status updated", metadata: [
            "ingress": "\(key)", "addresses": "\(loadBalancer["ingress"]?.arrayValue?.count ?? 0)", "before": "\(before)",
        ])
    }
}
