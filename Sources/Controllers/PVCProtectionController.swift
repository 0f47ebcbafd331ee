import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// kube-controller-manager's pvc-protection controller
/// (pkg/controller/volume/pvcprotection/pvc_protection_controller.go): a claim being deleted
/// keeps its `kubernetes.io/pvc-protection` finalizer while a pod scheduled to a node uses it
/// (whatever the pod's phase, as upstream: a finished pod still holds it until it is deleted),
/// so its data is not pulled from under a running pod; the finalizer is removed, and the
/// deletion completes, once the last such pod is gone.
struct PVCProtectionController: Controller {
    let name = "pvc-protection"
    static let finalizer = "kubernetes.io/pvc-protection"

    private let client: any ResourceClient
    private let claims: Informer
    private let pods: Informer
    private let queue = WorkQueue()
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, logger: Logger) {
        self.client = client
        self.claims = informers.informer(.persistentVolumeClaims)
        self.pods = informers.informer(.pods)
        self.logger = logger
        let queue = self.queue
        claims.addHandler { event in
            if case .deleted = event { return }
            guard event.object.deletionTimestamp != nil else { return }
            let key = Informer.key(of: event.object)
            Task { await queue.add(key) }
        }
        // A pod that goes away may free the claims it used.
        pods.addHandler { event in
            guard case .deleted(let pod) = event else { return }
            let keys = SchedulerVolumeBinding.claimNames(of: pod).map { Informer.key(namespace: pod.namespace, name: $0) }
            guard !keys.isEmpty else { return }
            Task { for key in keys { await queue.add(key) } }
        }
    }

    func run() async {
        await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in try await sync(key) }
    }

    private func sync(_ key: String) async throws(APIError) {
        guard let claim = claims.get(key: key), claim.deletionTimestamp != nil,
              claim.finalizers.contains(Self.finalizer) else { return }
        let claimName = claim.name ?? ""
        let inUse = pods.list(namespace: claim.namespace).contains { pod in
            !(pod.string(at: ["spec", "nodeName"]) ?? "").isEmpty && SchedulerVolumeBinding.claimNames(of: pod).contains(claimName)
        }
        guard !inUse else { return }
        var released = claim
        released.finalizers.removeAll { $0 == Self.finalizer }
        _ = try await client.update(.persistentVolumeClaims, released)
    }
}
