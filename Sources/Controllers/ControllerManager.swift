import APIMachinery
import Foundation
import Logging
import Synchronization

/// Durations and ranges of the in-server controllers, with kube-controller-manager's defaults.
public struct ControllerSettings: Sendable {
    /// Pod network of the cluster; each node gets a slice of it (--cluster-cidr, k3s: 10.42.0.0/16).
    public var clusterCIDR: String = "10.42.0.0/16"
    /// Prefix length of each node's pod CIDR (--node-cidr-mask-size, 24).
    public var nodeCIDRMaskSize: Int = 24
    /// How long a node may go without renewing its lease before it is NotReady/Unknown
    /// (--node-monitor-grace-period, 40 s).
    public var nodeMonitorGracePeriod: Duration = .seconds(40)
    /// How often node health is checked (--node-monitor-period, 5 s).
    public var nodeMonitorPeriod: Duration = .seconds(5)
    /// The toleration seconds given to pods for the not-ready and unreachable taints
    /// (--default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds, 300).
    public var defaultTolerationSeconds: Int64 = 300
    /// Finished pods kept before the pod GC deletes the oldest (--terminated-pod-gc-threshold, 12500).
    public var terminatedPodGCThreshold: Int = 12500
    /// How often the pod GC looks for orphaned and excess finished pods (kube-controller-manager: 20 s).
    public var podGCPeriod: Duration = .seconds(20)
    /// How often unschedulable pods are retried even when nothing changed (kube-scheduler's
    /// flush of unschedulable pods; 30 s).
    public var schedulerRetryPeriod: Duration = .seconds(30)
    /// How long the namespace controller waits before looking again at a namespace whose
    /// contents are still going away (pods terminating gracefully).
    public var namespaceRecheckPeriod: Duration = .seconds(2)

    public init() {}
}

/// The shared informers of one controller manager: one per resource, made on first use.
package final class Informers: Sendable {
    private let client: any ResourceClient
    private let logger: Logger
    private let made = Mutex<[ResourceRef: Informer]>([:])

    package init(client: any ResourceClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The informer of `ref`; controllers ask for theirs while they are constructed.
    func informer(_ ref: ResourceRef) -> Informer {
        made.withLock { made in
            if let existing = made[ref] { return existing }
            let informer = Informer(ref: ref, client: client, logger: logger)
            made[ref] = informer
            return informer
        }
    }

    package var all: [Informer] { made.withLock { Array($0.values) } }
}

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
        controllers.append(DeploymentController(client: client, informers: informers, logger: logger))
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
