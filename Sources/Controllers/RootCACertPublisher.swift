import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// kube-controller-manager's root-ca-cert-publisher
/// (pkg/controller/certificates/rootcacertpublisher/publisher.go): every active namespace has
/// the ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA, with upstream's
/// description annotation. A namespace added, or the ConfigMap changed or deleted, brings the
/// namespace back to the queue; the ConfigMap is re-created or its data put back. Pods read
/// it through the `kube-api-access-` projected volume.
struct RootCACertPublisher: Controller {
    let name = "root-ca-cert-publisher"
    static let configMapName = "kube-root-ca.crt"
    static let descriptionAnnotation = "kubernetes.io/description"
    static let description = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."

    private let client: any ResourceClient
    private let namespaces: Informer
    private let configMaps: Informer
    private let caPEM: String
    private let queue = WorkQueue()
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, caPEM: String, logger: Logger) {
        self.client = client
        self.namespaces = informers.informer(.namespaces)
        self.configMaps = informers.informer(.configMaps)
        self.caPEM = caPEM
        self.logger = logger
        let queue = self.queue
        namespaces.addHandler { event in
            if case .deleted = event { return }
            guard let name = event.object.name else { return }
            Task { await queue.add(name) }
        }
        // Upstream reacts to updates and deletions of the ConfigMap (an added one is ours).
        configMaps.addHandler { event in
            if case .added = event { return }
            guard event.object.name == Self.configMapName, let namespace = event.object.namespace else { return }
            Task { await queue.add(namespace) }
        }
    }

    func run() async {
        await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { namespace in
            try await sync(namespace: namespace)
        }
    }

    func sync(namespace: String) async throws(APIError) {
        // A namespace going away gets nothing new (its creation would be refused anyway).
        guard let object = namespaces.get(namespace: nil, name: namespace), object.deletionTimestamp == nil,
              (object.string(at: ["status", "phase"]) ?? "Active") == "Active" else { return }
        let data: JSONValue = .object(["ca.crt": .string(caPEM)])
        guard var configMap = try await client.get(.configMaps, namespace: namespace, name: Self.configMapName) else {
            var created = KubeObject.named(Self.configMapName, namespace: namespace, apiVersion: "v1", kind: "ConfigMap", extra: ["data": data])
            created.fields["metadata"] = .object([
                "name": .string(Self.configMapName), "namespace": .string(namespace),
                "annotations": .object([Self.descriptionAnnotation: .string(Self.description)]),
            ])
            do {
                _ = try await client.create(.configMaps, namespace: namespace, created)
            } catch where error.code == 409 || error.code == 403 {
                // Made meanwhile, or the namespace began terminating.
                return
            }
            return
        }
        if configMap.fields["data"] == data, !(configMap.annotations[Self.descriptionAnnotation] ?? "").isEmpty { return }
        configMap.fields["data"] = data
        configMap.fields.removeValue(forKey: "binaryData")
        var annotations = configMap.metadata["annotations"]?.objectValue ?? [:]
        annotations[Self.descriptionAnnotation] = .string(Self.description)
        configMap.set(.object(annotations), at: ["metadata", "annotations"])
        _ = try await client.update(.configMaps, configMap)
        logger.info("restored the cluster CA ConfigMap", metadata: ["namespace": "\(namespace)"])
    }
}
