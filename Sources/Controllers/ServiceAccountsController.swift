import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// kube-controller-manager's serviceaccounts controller
/// (pkg/controller/serviceaccount/serviceaccounts_controller.go): every active namespace has
/// the ServiceAccount `default`. The API server also makes it with the namespace (so the
/// first pod need not wait); this controller puts it back when it is deleted.
struct ServiceAccountsController: Controller {
    let name = "serviceaccount"
    static let serviceAccounts = ResourceRef(group: "", name: "serviceaccounts")
    /// upstream's ServiceAccountsToEnsure.
    static let ensured = ["default"]

    private let client: any ResourceClient
    private let namespaces: Informer
    private let accounts: Informer
    private let queue = WorkQueue()
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, logger: Logger) {
        self.client = client
        self.namespaces = informers.informer(.namespaces)
        self.accounts = informers.informer(Self.serviceAccounts)
        self.logger = logger
        let queue = self.queue
        namespaces.addHandler { event in
            if case .deleted = event { return }
            guard let name = event.object.name else { return }
            Task { await queue.add(name) }
        }
        accounts.addHandler { event in
            guard case .deleted(let account) = event, Self.ensured.contains(account.name ?? ""), let namespace = account.namespace else { return }
            Task { await queue.add(namespace) }
        }
    }

    func run() async {
        await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { namespace in
            try await sync(namespace: namespace)
        }
    }

    func sync(namespace: String) async throws(APIError) {
        guard let object = namespaces.get(namespace: nil, name: namespace), object.deletionTimestamp == nil,
              (object.string(at: ["status", "phase"]) ?? "Active") == "Active" else { return }
        for name in Self.ensured where accounts.get(namespace: namespace, name: name) == nil {
            // The cache may lag a create: the store decides.
            if try await client.get(Self.serviceAccounts, namespace: namespace, name: name) != nil { continue }
            do {
                _ = try await client.create(Self.serviceAccounts, namespace: namespace,
                                            KubeObject.named(name, namespace: namespace, apiVersion: "v1", kind: "ServiceAccount"))
                logger.info("created service account", metadata: ["serviceaccount": "\(namespace)/\(name)"])
            } catch where error.code == 409 || error.code == 403 {
                continue
            }
        }
    }
}
