import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import Logging
import Synchronization

/// Runs the server's controllers (kube-controller-manager plus kube-scheduler, in process):
/// starts the shared informers, waits for their first lists, then runs every controller.
public struct ControllerManager: Sendable {
    let client: any ResourceClient
    let settings: ControllerSettings
    let logger: Logger
    let informers: Informers
    let controllers: [any Controller]

    /// The controllers over `client`: the API server in process (`InProcessClient`) for
    /// `swiftlet server`.
    package init(client: any ResourceClient, settings: ControllerSettings = ControllerSettings(),
                 logger: Logger = Logger(label: "swiftlet.controllers")) {
        let informers = Informers(client: client, logger: logger)
        self.client = client
        self.settings = settings
        self.logger = logger
        self.informers = informers
        self.controllers = Self.makeControllers(client: client, informers: informers, settings: settings, logger: logger)
    }

    /// The names `--controllers` takes, in the order the controllers start.
    public static var controllerNames: [String] { factories.map(\.name) }

    private typealias Factory = (name: String, make: @Sendable (any ResourceClient, Informers, ControllerSettings, Logger) -> (any Controller)?)

    /// Every controller by name; nil from `make` when the settings leave it nothing to do.
    private static let factories: [Factory] = [
        ("scheduler", { Scheduler(client: $0, informers: $1, retryPeriod: $2.schedulerRetryPeriod, logger: $3) }),
        ("garbage-collector", { client, informers, _, logger in GarbageCollector(client: client, informers: informers, logger: logger) }),
        ("namespace", { NamespaceController(client: $0, informers: $1, settings: $2, logger: $3) }),
        ("node-ipam", { NodeIPAMController(client: $0, informers: $1, settings: $2, logger: $3) }),
        ("node-lifecycle", { NodeLifecycleController(client: $0, informers: $1, settings: $2, logger: $3) }),
        ("pod-gc", { PodGCController(client: $0, informers: $1, settings: $2, logger: $3) }),
        ("replicaset", { client, informers, _, logger in ReplicaSetController(client: client, informers: informers, logger: logger) }),
        ("job", { client, informers, _, logger in JobController(client: client, informers: informers, logger: logger) }),
        ("cronjob", { client, informers, _, logger in CronJobController(client: client, informers: informers, logger: logger) }),
        ("daemonset", { client, informers, _, logger in DaemonSetController(client: client, informers: informers, logger: logger) }),
        ("statefulset", { client, informers, _, logger in StatefulSetController(client: client, informers: informers, logger: logger) }),
        ("deployment", { client, informers, _, logger in DeploymentController(client: client, informers: informers, logger: logger) }),
        ("endpoints", { client, informers, _, logger in EndpointsController(client: client, informers: informers, logger: logger) }),
        ("endpointslice", { EndpointSliceController(client: $0, informers: $1, settings: $2, logger: $3) }),
        ("serviceaccount", { client, informers, _, logger in ServiceAccountsController(client: client, informers: informers, logger: logger) }),
        ("root-ca-cert-publisher", { client, informers, settings, logger in
            settings.rootCACertificatePEM.map { RootCACertPublisher(client: client, informers: informers, caPEM: $0, logger: logger) }
        }),
        ("cluster-dns", { client, informers, settings, logger in
            settings.clusterDNS.map { ClusterDNSController(client: client, informers: informers, clusterDNS: $0, logger: logger) }
        }),
        ("kubernetes-service", { client, informers, settings, logger in
            settings.apiServerAddresses.isEmpty ? nil : KubernetesServiceController(client: client, informers: informers, settings: settings, logger: logger)
        }),
        ("service-lb", { client, informers, _, logger in ServiceLBController(client: client, informers: informers, logger: logger) }),
        ("ingress-status", { client, informers, _, logger in IngressStatusController(client: client, informers: informers, logger: logger) }),
        ("resourcequota", { ResourceQuotaController(client: $0, informers: $1, settings: $2, logger: $3) }),
        ("disruption", { client, informers, _, logger in DisruptionController(client: client, informers: informers, logger: logger) }),
        // Storage: binding, the built-in local-path provisioner (nil when --disable-local-storage),
        // and the finalizers that keep claims and volumes while they are in use.
        ("persistentvolume-binder", { client, informers, _, logger in PersistentVolumeBinder(client: client, informers: informers, logger: logger) }),
        ("local-path-provisioner", { client, informers, settings, logger in
            settings.localStoragePath.map { LocalPathProvisioner(client: client, informers: informers, storagePath: $0, logger: logger) }
        }),
        ("pvc-protection", { client, informers, _, logger in PVCProtectionController(client: client, informers: informers, logger: logger) }),
        ("pv-protection", { client, informers, _, logger in PVProtectionController(client: client, informers: informers, logger: logger) }),
        // The ReplicaSet engine over ReplicationControllers (upstream's replication manager).
        ("replicationcontroller", { client, informers, _, logger in
            ReplicaSetController(kind: .replicationController, client: client, informers: informers, logger: logger)
        }),
    ]

    /// Every controller that `settings.controllers` enables, constructed so that each
    /// registers its informer handlers (a disabled one is never made, so its informers do
    /// not run either).
    static func makeControllers(client: any ResourceClient, informers: Informers, settings: ControllerSettings,
                                logger: Logger) -> [any Controller] {
        factories.filter { settings.runs($0.name) }.compactMap { $0.make(client, informers, settings, logger) }
    }

    /// Runs until the task is cancelled (also when there is nothing to run, so that callers
    /// can treat an early return as a failure).
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }
            let informers = self.informers.all
            for informer in informers {
                group.addTask { await informer.run() }
            }
            for informer in informers { await informer.waitForSync() }
            logger.info("controllers starting", metadata: ["controllers": "\(controllers.map(\.name).joined(separator: ","))"])
            for controller in controllers {
                group.addTask { await controller.run() }
            }
        }
    }
}
