import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// kube-controller-manager's pv-protection controller
/// (pkg/controller/volume/pvprotection/pv_protection_controller.go): a volume being deleted
/// keeps its `kubernetes.io/pv-protection` finalizer while it is Bound to a claim; once it is
/// not (its claim went away, or it never had one), the finalizer is removed and the deletion
/// completes.
struct PVProtectionController: Controller {
    let name = "pv-protection"
    static let finalizer = "kubernetes.io/pv-protection"

    private let client: any ResourceClient
    private let volumes: Informer
    private let queue = WorkQueue()
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, logger: Logger) {
        self.client = client
        self.volumes = informers.informer(.persistentVolumes)
        self.logger = logger
        let queue = self.queue
        volumes.addHandler { event in
            if case .deleted = event { return }
            guard event.object.deletionTimestamp != nil else { return }
            let key = Informer.key(of: event.object)
            Task { await queue.add(key) }
        }
    }

    func run() async {
        await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in try await sync(key) }
    }

    private func sync(_ key: String) async throws(APIError) {
        guard let volume = volumes.get(key: key), volume.deletionTimestamp != nil,
              volume.finalizers.contains(Self.finalizer), volume.phase != "Bound" else { return }
        var released = volume
        released.finalizers.removeAll { $0 == Self.finalizer }
        _ = try await client.update(.persistentVolumes, released)
    }
}
