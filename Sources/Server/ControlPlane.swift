import APIRegistry
import APIServer
import Controllers
import Logging
import Storage

/// The control plane wired together, as `swiftlet server` runs it: the Kubernetes API
/// (`APIService`, bootstrapped with the system namespaces and the `kubernetes` Service) over a
/// store, HTTP servers in front of it, and the scheduler and controllers, which reach the same
/// API in process through `InProcessClient` (kube-controller-manager and kube-scheduler use a
/// client of kube-apiserver; swap the client and they could run against a remote one).
///
/// The caller owns what is about the host: the store's file, certificates, credentials and
/// kubeconfigs, the listening addresses, the node agent.
public struct ControlPlane: Sendable {
    /// The API every server and controller of this control plane works on.
    public let service: APIService

    /// The API over `storage`, its keys in kube-apiserver's layout (`StorageLayoutMigration`),
    /// bootstrapped (the system namespaces and their `default` ServiceAccounts, the
    /// `kubernetes` Service); what already exists is kept.
    /// - Parameters:
    ///   - serviceCIDR: where Service cluster IPs come from (kube-apiserver's --service-cluster-ip-range).
    ///   - serviceNodePortRange: where node ports come from (--service-node-port-range).
    ///   - defaultTolerationSeconds: how long new pods tolerate not-ready and unreachable nodes
    ///     (the DefaultTolerationSeconds admission plugin, 300).
    ///   - localStorageClass: whether the bootstrap makes the `local-path` StorageClass (false
    ///     with --disable-local-storage).
    ///   - logger: where the API warns of what it repaired or moved in the store.
    public init(storage: any Storage, serviceCIDR: String = "10.43.0.0/16", serviceNodePortRange: ClosedRange<Int64> = 30000...32767,
                defaultTolerationSeconds: Int64 = 300, localStorageClass: Bool = true,
                logger: Logger = Logger(label: "swiftlet.server")) async throws {
        service = try APIService(storage: storage, serviceCIDR: serviceCIDR, serviceNodePortRange: serviceNodePortRange,
                                 defaultTolerationSeconds: defaultTolerationSeconds, logger: logger)
        // A store an earlier swiftlet wrote is moved to kube-apiserver's keys before anything
        // reads it (the bootstrap below would otherwise not find the `kubernetes` Service).
        try await StorageLayoutMigration(storage: storage, registry: service.registry, logger: logger).run()
        try await service.bootstrap(localStorageClass: localStorageClass)
    }

    /// kube-apiserver's repair loops for Service cluster IPs and node ports: every `interval`
    /// (upstream: 3 minutes) the allocations are rebuilt from the stored Services, and what
    /// looked wrong is logged. Runs until cancelled.
    public func runServiceAllocationRepair(every interval: Duration = .seconds(180), logger: Logger) async {
        await Self.every(interval, doing: "service allocation repair", logger: logger) {
            for problem in try await service.repairServiceAllocations() {
                logger.warning("service allocation repair: \(problem)")
            }
        }
    }

    /// The Event time-to-live (kube-apiserver's `--event-ttl`, `APIService.expireEvents`):
    /// Events older than `ttl` are deleted every minute (or every ttl when shorter), so Events
    /// expire at most a minute late. Runs until cancelled.
    public func runEventExpiry(ttl: Duration, logger: Logger) async {
        await Self.every(min(ttl, .seconds(60)), doing: "event expiry", logger: logger) {
            let expired = try await service.expireEvents(olderThan: ttl)
            if expired > 0 { logger.debug("expired \(expired) events older than the event ttl") }
        }
    }

    /// The server's periodic housekeeping: `work` after every `interval` until cancelled; a
    /// failure is logged and the next round tries again.
    private static func every(_ interval: Duration, doing what: String, logger: Logger,
                              _ work: () async throws -> Void) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            do {
                try await work()
            } catch {
                logger.warning("\(what) failed: \(error)")
            }
        }
    }

    /// An HTTP or HTTPS server of the API; run as many as there are listening addresses.
    public func apiServer(_ configuration: APIServerConfiguration, logger: Logger) -> APIServer {
        APIServer(service: service, configuration: configuration, logger: logger)
    }

    /// The scheduler and the controllers on shared informers, over the API in process.
    public func controllerManager(settings: ControllerSettings, logger: Logger) -> ControllerManager {
        ControllerManager(client: InProcessClient(service: service), settings: settings, logger: logger)
    }

    /// Runs the scheduler and the controllers until cancelled. With an `electionIdentity`, only
    /// while this server holds the `kube-system/kube-controller-manager` Lease (`LeaderElector`),
    /// a fresh controller manager per term, so that of the servers sharing one datastore one runs
    /// them at a time; the `kubernetes` Service's controller then runs on every server, outside
    /// the election, as it does in every kube-apiserver (each server keeps its own endpoint lease).
    package func runControllers(settings: ControllerSettings, electionIdentity: String?, logger: Logger) async {
        guard let electionIdentity else {
            await controllerManager(settings: settings, logger: logger).run()
            return
        }
        let perServer = "kubernetes-service"
        let (elected, own) = {
            var elected = settings, own = settings
            elected.controllers = ["-" + perServer] + settings.controllers
            own.controllers = [perServer]
            return (elected, own)
        }()
        let runsOwn = settings.runs(perServer) && !settings.apiServerAddresses.isEmpty
        let elector = LeaderElector(client: InProcessClient(service: service),
                                    settings: LeaderElector.Settings(identity: electionIdentity), logger: logger)
        await withTaskGroup(of: Void.self) { group in
            if runsOwn {
                group.addTask { await controllerManager(settings: own, logger: logger).run() }
            }
            group.addTask {
                await elector.run {
                    await controllerManager(settings: elected, logger: logger).run()
                }
            }
        }
    }
}
