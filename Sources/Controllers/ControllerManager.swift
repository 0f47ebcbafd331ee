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

    /// Every controller, constructed so that each registers its informer handlers.
    static func makeControllers(client: any ResourceClient, informers: Informers, settings: ControllerSettings,
                                logger: Logger) -> [any Controller] {
        var controllers: [any Controller] = []
        controllers.append(Scheduler(client: client, informers: informers, settings: settings, logger: logger))
        controllers.append(GarbageCollector(client: client, informers: informers, logger: logger))
        controllers.append(NamespaceController(client: client, informers: informers, settings: settings, logger: logger))
        controllers.append(NodeIPAMController(client: client, informers: informers, settings: settings, logger: logger))
        controllers.append(NodeLifecycleController(client: client, informers: informers, settings: settings, logger: logger))
        controllers.append(PodGCController(client: client, informers: informers, settings: settings, logger: logger))
        controllers.append(ReplicaSetController(client: client, informers: informers, logger: logger))
        controllers.append(JobController(client: client, informers: informers, logger: logger))
        controllers.append(CronJobController(client: client, informers: informers, logger: logger))
        controllers.append(DaemonSetController(client: client, informers: informers, logger: logger))
        controllers.append(StatefulSetController(client: client, informers: informers, logger: logger))
        controllers.append(DeploymentController(client: client, informers: informers, logger: logger))
        controllers.append(EndpointsController(client: client, informers: informers, logger: logger))
        controllers.append(EndpointSliceController(client: client, informers: informers, settings: settings, logger: logger))
        controllers.append(ServiceAccountsController(client: client, informers: informers, logger: logger))
        if let caPEM = settings.rootCACertificatePEM {
            controllers.append(RootCACertPublisher(client: client, informers: informers, caPEM: caPEM, logger: logger))
        }
        if let clusterDNS = settings.clusterDNS {
            controllers.append(ClusterDNSController(client: client, informers: informers, clusterDNS: clusterDNS, logger: logger))
        }
        if !settings.apiServerAddresses.isEmpty {
            controllers.append(KubernetesServiceController(client: client, informers: informers, settings: settings, logger: logger))
        }
        return controllers
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
