import APIMachinery
import Foundation
import KubeAPI

/// The ResourceQuota admission plugin, as kube-apiserver runs it last among the validating
/// plugins (k8s.io/apiserver/pkg/admission/plugin/resourcequota, `CheckRequest` and
/// `checkQuotas`): a new object of a namespace with quotas is measured (`QuotaEvaluator`),
/// every quota that covers it must have usage figures for what it limits and room for the
/// object, and the object's usage is charged to each such quota's `status.used` before the
/// object is stored.
///
/// The charge is a compare-and-swap on the quota (an update carrying the resourceVersion
/// that was read): concurrent creates that race for the last unit are serialized by the
/// store, the losers re-read the quota and are checked again, so a quota is never
/// overshot. Quotas already charged for this request are not charged again on a retry, as
/// upstream retries only the quotas whose update failed. A dry run is checked but not charged.
/// The resource quota controller later recomputes usage from the stored objects, which also
/// gives back a charge whose object was in the end not stored.
///
/// Updates are charged for Services only (what grew: a ClusterIP Service turned NodePort
/// needs node ports), as upstream's evaluators handle updates.
///
/// Refusals are 403s in upstream's words: `exceeded quota: NAME, requested: pods=1, used:
/// pods=2, limited: pods=2`, `failed quota: NAME: must specify limits.cpu for: web`,
/// `status unknown for quota: NAME, resources: pods`.
struct ResourceQuotaAdmission {
    let quotas: ResourceStore
    /// How often a charge that lost a race is retried before the request fails.
    var attempts = 32

    /// Resources quota never counts (upstream's `ignoredResources`).
    static func ignores(_ resource: APIResource) -> Bool {
        !resource.namespaced || resource.name == "events"
    }

    /// Whether updates of the resource are charged too: only Services', whose node ports and
    /// load balancers change with their type (upstream's evaluators handle Update for
    /// services; pods only through `resize`, other objects never).
    static func chargesUpdates(_ resource: APIResource) -> Bool {
        resource.group.isEmpty && resource.name == "services"
    }

    /// Checks and charges a create (`old` nil) or an update of `old` to `object`.
    func admit(_ object: KubeObject, old: KubeObject? = nil, resource: APIResource, namespace: String,
               context: StrategyContext) async throws(APIError) {
        guard !Self.ignores(resource) else { return }
        let evaluator = QuotaEvaluator(resource: ResourceRef(group: resource.group, name: resource.name))
        let now = context.now.date
        var charged: Set<String> = []
        var lastConflict: APIError?
        for attempt in 0..<attempts {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 + attempt * 2)))) }
            let stored = try await quotas.list(namespace: namespace, options: ListOptions()).items
                .filter { !charged.contains($0.name ?? "") }
            guard !stored.isEmpty else { return }
            let updates = try check(object, old: old, resource: resource, evaluator: evaluator, quotas: stored, now: now)
            if context.dryRun || updates.isEmpty { return }
            var failed = false
            for update in updates {
                do {
                    _ = try await quotas.update(namespace: namespace, name: update.name ?? "", object: update, subresource: "status",
                                                context: context)
                    charged.insert(update.name ?? "")
                } catch where error.code == 409 {
                    lastConflict = error
                    failed = true
                }
            }
            if !failed { return }
        }
        throw lastConflict ?? APIError.internalError("resource quota admission: charging the quotas of namespace \(namespace) kept conflicting")
    }

    /// `CheckRequest`: refuses the object, or returns the quotas with the object's usage
    /// added to `status.used` (only those whose usage changes). On an update, a quota that
    /// already covered the old object is charged only what grew.
    func check(_ object: KubeObject, old: KubeObject? = nil, resource: APIResource, evaluator: QuotaEvaluator,
               quotas stored: [KubeObject], now: Date) throws(APIError) -> [KubeObject] {
        let name = object.name ?? ""
        func forbidden(_ message: String) -> APIError {
            APIError.forbidden(resource.groupResource, name: name, message)
        }
        var interesting: [(object: KubeObject, hard: ResourceList, used: ResourceList, scopes: [ScopedResourceSelectorRequirement])] = []
        for quotaObject in stored.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
            guard let quota = try? ResourceQuotaStrategy.decode(quotaObject, validation: .ignore).0 else { continue }
            let hard = quota.status?.hard ?? [:]
            let quotaName = quota.metadata.name ?? ""
            let scopes = quota.spec?.scopeRequirements ?? []
            guard evaluator.matches(hard: hard.keys, scopes: scopes, object: object) else { continue }
            let restricted = evaluator.matchingResources(hard.keys)
            if let violation = evaluator.constraintViolation(required: restricted, object: object) {
                throw forbidden("failed quota: \(quotaName): \(violation)")
            }
            // hasUsageStats: a limited resource without a used figure (the controller has not
            // seen the quota yet) cannot be checked.
            let used = quota.status?.used ?? [:]
            if restricted.contains(where: { used[$0] == nil }) {
                throw forbidden("status unknown for quota: \(quotaName), resources: \(restricted.joined(separator: ","))")
            }
            interesting.append((quotaObject, hard, used, scopes))
        }
        let usage = evaluator.usage(of: object, now: now)
        let negative = ResourceLists.negativeNames(usage)
        if !negative.isEmpty {
            throw forbidden("quota usage is negative for resource(s): \(negative.joined(separator: ","))")
        }
        let oldUsage = old.map { evaluator.usage(of: $0, now: now) }
        var updates: [KubeObject] = []
        for (quotaObject, hard, used, scopes) in interesting {
            var delta = usage
            if let old, let oldUsage, evaluator.matches(hard: hard.keys, scopes: scopes, object: old) {
                delta = ResourceLists.subtractWithNonNegativeResult(usage, oldUsage)
            }
            let requested = ResourceLists.mask(ResourceLists.removeZeros(delta), hard.keys)
            guard !requested.isEmpty else { continue }
            let newUsed = ResourceLists.add(used, requested)
            let (allowed, exceeded) = ResourceLists.lessThanOrEqual(ResourceLists.mask(newUsed, requested.keys), hard)
            if !allowed {
                throw forbidden("exceeded quota: \(quotaObject.name ?? ""), requested: \(ResourceLists.prettyPrint(ResourceLists.mask(requested, exceeded))), "
                                + "used: \(ResourceLists.prettyPrint(ResourceLists.mask(used, exceeded))), "
                                + "limited: \(ResourceLists.prettyPrint(ResourceLists.mask(hard, exceeded)))")
            }
            var updated = quotaObject
            updated.set(.object(newUsed.mapValues { .string($0.description) }), at: ["status", "used"])
            updates.append(updated)
        }
        return updates
    }
}
