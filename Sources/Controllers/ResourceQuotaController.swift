import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's resource quota controller (pkg/controller/resourcequota): keeps
/// every ResourceQuota's `status.hard` equal to its `spec.hard` and recomputes `status.used`
/// from the objects of its namespace (`QuotaEvaluator`: pods that have not finished, services
/// with their node ports and load balancers, `count/<resource>.<group>` of any served
/// resource, configmaps, secrets, resourcequotas; compute requests and limits; pods in the
/// quota's scopes only).
///
/// A quota is synced when it is created, when its spec.hard changes or its status lacks a
/// figure, when usage goes down (upstream's replenishment: a pod deleted or finished, a
/// service deleted or changed, a configmap, secret or quota deleted), and at every
/// `resourceQuotaSyncPeriod` (--resource-quota-sync-period, 5 minutes) for anything else,
/// such as usage charged by admission for an object whose create failed. Usage going up is
/// charged by the ResourceQuota admission plugin when the object is created.
struct ResourceQuotaController: Controller {
    let name = "resourcequota"

    private let client: any ResourceClient
    private let quotas: Informer
    /// Objects read from the shared caches; other counted resources are listed at sync.
    private let cached: [ResourceRef: Informer]
    private let settings: ControllerSettings
    private let queue = WorkQueue()
    private let logger: Logger

    /// What every quota may count without naming it as `count/...`.
    static let evaluatedResources: [ResourceRef] = [.pods, .services, .configMaps, .secrets, .resourceQuotas, .persistentVolumeClaims]

    init(client: any ResourceClient, informers: Informers, settings: ControllerSettings, logger: Logger) {
        self.client = client
        self.settings = settings
        self.logger = logger
        let quotas = informers.informer(.resourceQuotas)
        self.quotas = quotas
        var cached: [ResourceRef: Informer] = [:]
        for ref in Self.evaluatedResources { cached[ref] = ref == .resourceQuotas ? quotas : informers.informer(ref) }
        self.cached = cached
        let queue = self.queue
        quotas.addHandler { event in
            switch event {
            case .added(let quota):
                Task { await queue.add(Informer.key(of: quota)) }
            case .updated(let old, let new):
                if old.value(at: ["spec", "hard"]) != new.value(at: ["spec", "hard"]) || Self.needsFigures(new) {
                    Task { await queue.add(Informer.key(of: new)) }
                }
            case .deleted(let quota):
                Self.replenish(namespace: quota.namespace, quotas: quotas, queue: queue)
            }
        }
        cached[.pods]?.addHandler { event in
            switch event {
            case .deleted(let pod):
                Self.replenish(namespace: pod.namespace, quotas: quotas, queue: queue)
            case .updated(let old, let new):
                let now = Date()
                if QuotaEvaluator.countsCompute(old, now: now) && !QuotaEvaluator.countsCompute(new, now: now) {
                    Self.replenish(namespace: new.namespace, quotas: quotas, queue: queue)
                }
            case .added:
                break
            }
        }
        cached[.services]?.addHandler { event in
            switch event {
            case .deleted(let service):
                Self.replenish(namespace: service.namespace, quotas: quotas, queue: queue)
            case .updated(let old, let new):
                if QuotaEvaluator.serviceUsage(old) != QuotaEvaluator.serviceUsage(new) {
                    Self.replenish(namespace: new.namespace, quotas: quotas, queue: queue)
                }
            case .added:
                break
            }
        }
        for ref in [ResourceRef.configMaps, .secrets, .persistentVolumeClaims] {
            cached[ref]?.addHandler { event in
                if case .deleted(let object) = event { Self.replenish(namespace: object.namespace, quotas: quotas, queue: queue) }
            }
        }
    }

    /// A quota whose status does not yet carry every limited resource (`addQuota`'s
    /// "missing usage" check).
    static func needsFigures(_ quota: KubeObject) -> Bool {
        let hard = quota.value(at: ["spec", "hard"])?.objectValue ?? [:]
        let statusHard = quota.value(at: ["status", "hard"])?.objectValue ?? [:]
        let used = quota.value(at: ["status", "used"])?.objectValue ?? [:]
        return hard.keys.contains { statusHard[$0] == nil || used[$0] == nil }
    }

    /// Queues every quota of the namespace.
    private static func replenish(namespace: String?, quotas: Informer, queue: WorkQueue) {
        let keys = quotas.list(namespace: namespace ?? "").map(Informer.key(of:))
        guard !keys.isEmpty else { return }
        Task { for key in keys { await queue.add(key) } }
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in try await sync(key) }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: settings.resourceQuotaSyncPeriod)
                    for quota in quotas.list() { await queue.add(Informer.key(of: quota)) }
                }
            }
        }
    }

    /// `syncResourceQuota`.
    func sync(_ key: String) async throws(APIError) {
        guard let object = quotas.get(key: key), object.deletionTimestamp == nil, let namespace = object.namespace else { return }
        let quota = (try? Manifest.decode(ResourceQuota.self, value: object.json)) ?? ResourceQuota()
        let hard = quota.spec?.hard ?? [:]
        let used = try await usage(namespace: namespace, hard: hard, scopes: quota.spec?.scopeRequirements ?? [],
                                   previous: quota.status?.used ?? [:])
        let status: JSONValue = .object([
            "hard": .object(hard.mapValues { .string($0.description) }),
            "used": .object(used.mapValues { .string($0.description) }),
        ])
        let current = object.value(at: ["status"]) ?? .object([:])
        if Self.sameStatus(current, hard: hard, used: used) { return }
        try await client.writeStatus(status, of: object, in: .resourceQuotas)
        logger.debug("resource quota status updated", metadata: ["quota": "\(key)", "used": "\(ResourceLists.prettyPrint(used))"])
    }

    /// Whether the stored status already says this (quantities compared by value, as
    /// upstream's `quota.Equals`, so `1Gi` and `1073741824` do not cause a write).
    static func sameStatus(_ status: JSONValue, hard: ResourceList, used: ResourceList) -> Bool {
        func list(_ value: JSONValue?) -> ResourceList? {
            var result: ResourceList = [:]
            for (name, quantity) in value?.objectValue ?? [:] {
                guard let text = quantity.stringValue, let parsed = try? Quantity(text) else { return nil }
                result[name] = parsed
            }
            return result
        }
        guard status["hard"] != nil, status["used"] != nil, let storedHard = list(status["hard"]), let storedUsed = list(status["used"]) else {
            return false
        }
        return ResourceLists.equals(storedHard, hard) && ResourceLists.equals(storedUsed, used)
    }

    /// `quota.CalculateUsage` masked to the hard resources, over the previous figures
    /// (a resource nothing can count keeps what it had).
    func usage(namespace: String, hard: ResourceList, scopes: [ScopedResourceSelectorRequirement],
               previous: ResourceList) async throws(APIError) -> ResourceList {
        var refs = Self.evaluatedResources
        for name in hard.keys.sorted() {
            if let ref = QuotaEvaluator.countedResource(name), !refs.contains(ref) { refs.append(ref) }
        }
        var used = previous
        let now = Date()
        for ref in refs {
            let evaluator = QuotaEvaluator(resource: ref)
            let matching = evaluator.matchingResources(hard.keys)
            guard !matching.isEmpty else { continue }
            let objects: [KubeObject]
            if let informer = cached[ref] {
                objects = informer.list(namespace: namespace)
            } else {
                do {
                    objects = try await client.list(ref, namespace: namespace).items
                } catch where error.code == 404 {
                    continue // not a resource this server serves: nothing to count
                }
            }
            var stats: ResourceList = [:]
            for name in matching { stats[name] = .zero }
            for object in objects where evaluator.matchesScopes(scopes, object: object) {
                stats = ResourceLists.add(stats, evaluator.usage(of: object, now: now))
            }
            for (name, quantity) in ResourceLists.mask(stats, matching) { used[name] = quantity }
        }
        return ResourceLists.mask(used, hard.keys)
    }
}
