import Foundation
import KubeAPI

/// How one resource counts against a ResourceQuota (k8s.io/apiserver/pkg/quota/v1's
/// `Evaluator`, with kubernetes' pkg/quota/v1/evaluator/core): which quota resource names it
/// answers for, an object's usage, whether an object falls in a quota's scopes, and the
/// constraints a pod must meet. Shared by the resource quota controller (usage recomputed
/// from the objects) and the ResourceQuota admission plugin (usage charged per request).
/// Objects are read as JSON, as stored, so a pod the typed decoder would refuse still counts.
package struct QuotaEvaluator: Sendable {
    package enum Kind: Sendable, Equatable {
        /// Pods: count, compute requests and limits, scopes (`podEvaluator`).
        case pods
        /// Services: count, node ports, load balancers (`serviceEvaluator`).
        case services
        /// PersistentVolumeClaims: count and requested storage, in all and per class (`pvcEvaluator`).
        case claims
        /// Any other resource: `count/<resource>.<group>` and, for a few core ones, the
        /// legacy name (`configmaps`, `secrets`, `resourcequotas`, `replicationcontrollers`).
        case objectCount(legacyName: String?)
    }

    package let resource: ResourceRef
    package let kind: Kind

    /// `legacyObjectCountAliases`.
    static let legacyNames: [String: String] = [
        "configmaps": "configmaps", "resourcequotas": "resourcequotas", "replicationcontrollers": "replicationcontrollers",
        "secrets": "secrets", "persistentvolumeclaims": "persistentvolumeclaims",
    ]

    package init(resource: ResourceRef) {
        self.resource = resource
        switch (resource.group, resource.name) {
        case ("", "pods"): kind = .pods
        case ("", "services"): kind = .services
        case ("", "persistentvolumeclaims"): kind = .claims
        case ("", let name): kind = .objectCount(legacyName: Self.legacyNames[name])
        default: kind = .objectCount(legacyName: nil)
        }
    }

    /// `count/<resource>` for core resources, `count/<resource>.<group>` otherwise
    /// (`ObjectCountQuotaResourceNameFor`).
    package var objectCountName: String {
        resource.group.isEmpty ? "count/\(resource.name)" : "count/\(resource.name).\(resource.group)"
    }

    /// The resource a `count/...` quota name counts: nil for other names.
    package static func countedResource(_ quotaName: String) -> ResourceRef? {
        guard quotaName.hasPrefix("count/") else { return nil }
        let rest = quotaName.dropFirst("count/".count)
        guard !rest.isEmpty else { return nil }
        guard let dot = rest.firstIndex(of: ".") else { return ResourceRef(group: "", name: String(rest)) }
        return ResourceRef(group: String(rest[rest.index(after: dot)...]), name: String(rest[..<dot]))
    }

    /// `podResources` and the pod evaluator's prefixed names.
    static let podResources: Set<String> = [
        "count/pods", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
        "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
    ]
    static let serviceResources: Set<String> = ["count/services", "services", "services.nodeports", "services.loadbalancers"]
    static let claimResources: Set<String> = ["count/persistentvolumeclaims", "persistentvolumeclaims", "requests.storage"]
    /// `<class>.storageclass.storage.k8s.io/requests.storage` and `.../persistentvolumeclaims`.
    static let classSuffix = ".storageclass.storage.k8s.io/"

    /// `MatchingResources`: the names among `names` this resource answers for, sorted.
    package func matchingResources(_ names: some Sequence<String>) -> [String] {
        names.filter { name in
            switch kind {
            case .pods:
                if Self.podResources.contains(name) || ResourceNames.isQuotaHugePages(name) { return true }
                return name.hasPrefix("requests.") && ResourceNames.isExtended(String(name.dropFirst("requests.".count)))
            case .services:
                return Self.serviceResources.contains(name)
            case .claims:
                if Self.claimResources.contains(name) { return true }
                return name.hasSuffix(Self.classSuffix + "requests.storage") || name.hasSuffix(Self.classSuffix + "persistentvolumeclaims")
            case .objectCount(let legacy):
                return name == objectCountName || (legacy != nil && name == legacy)
            }
        }.sorted()
    }

    // MARK: - Usage

    /// `Usage`: what `object` consumes.
    package func usage(of object: KubeObject, now: Date = Date()) -> ResourceList {
        switch kind {
        case .pods: return Self.podUsage(object, now: now)
        case .services: return Self.serviceUsage(object)
        case .claims: return Self.claimUsage(object)
        case .objectCount(let legacy):
            var usage: ResourceList = [objectCountName: Quantity(value: 1)]
            if let legacy { usage[legacy] = Quantity(value: 1) }
            return usage
        }
    }

    /// `serviceEvaluator.Usage`: one service; node ports for NodePort and LoadBalancer
    /// services (one per port, or per explicit nodePort when a load balancer allocates
    /// none); one load balancer.
    package static func serviceUsage(_ service: KubeObject) -> ResourceList {
        let ports = service.value(at: ["spec", "ports"])?.arrayValue ?? []
        var usage: ResourceList = [
            "services": Quantity(value: 1), "count/services": Quantity(value: 1),
            "services.loadbalancers": .zero, "services.nodeports": .zero,
        ]
        switch service.string(at: ["spec", "type"]) {
        case "NodePort":
            usage["services.nodeports"] = Quantity(value: Int64(ports.count))
        case "LoadBalancer":
            if service.value(at: ["spec", "allocateLoadBalancerNodePorts"])?.boolValue == false {
                let explicit = ports.filter { ($0["nodePort"]?.intValue ?? 0) != 0 }.count
                usage["services.nodeports"] = Quantity(value: Int64(explicit))
            } else {
                usage["services.nodeports"] = Quantity(value: Int64(ports.count))
            }
            usage["services.loadbalancers"] = Quantity(value: 1)
        default:
            break
        }
        return usage
    }

    /// `pvcEvaluator.Usage`: one claim and its storage request, also under its class's names
    /// (the class as the claim names it: the field, or the beta annotation).
    package static func claimUsage(_ claim: KubeObject) -> ResourceList {
        let one = Quantity(value: 1)
        let storage = claim.requestedStorage ?? .zero
        var usage: ResourceList = ["count/persistentvolumeclaims": one, "persistentvolumeclaims": one, "requests.storage": storage]
        let className = claim.storageClassName
        if !className.isEmpty {
            usage[className + classSuffix + "persistentvolumeclaims"] = one
            usage[className + classSuffix + "requests.storage"] = storage
        }
        return usage
    }

    /// `PodUsageFunc`: always `count/pods`; for a pod that still runs (`QuotaV1Pod`) also
    /// `pods` and its compute requests and limits (`PodRequests`/`PodLimits`).
    static func podUsage(_ pod: KubeObject, now: Date) -> ResourceList {
        let count: ResourceList = ["count/pods": Quantity(value: 1)]
        guard countsCompute(pod, now: now) else { return count }
        let spec = pod.fields["spec"] ?? .object([:])
        return ResourceLists.add(count, computeUsage(requests: podTotal(spec, "requests"), limits: podTotal(spec, "limits")))
    }

    /// `QuotaV1Pod`: finished pods, and pods whose deletion grace period is over (a lost
    /// node's), no longer count.
    package static func countsCompute(_ pod: KubeObject, now: Date) -> Bool {
        let phase = pod.string(at: ["status", "phase"])
        if phase == "Failed" || phase == "Succeeded" { return false }
        if let deletion = pod.deletionTimestamp.flatMap(Time.init(rfc3339:)), let grace = pod.deletionGracePeriodSeconds,
           now > deletion.date.addingTimeInterval(TimeInterval(grace)) {
            return false
        }
        return true
    }

    /// `podComputeUsageHelper`: one pod, requests counted under both `cpu` and
    /// `requests.cpu` (memory and ephemeral storage alike), limits under `limits.*`,
    /// hugepages and extended resources under `requests.*`.
    static func computeUsage(requests: ResourceList, limits: ResourceList) -> ResourceList {
        var usage: ResourceList = ["pods": Quantity(value: 1)]
        for name in ["cpu", "memory", "ephemeral-storage"] {
            if let request = requests[name] {
                usage[name] = request
                usage["requests." + name] = request
            }
            if let limit = limits[name] { usage["limits." + name] = limit }
        }
        for (name, request) in requests {
            if ResourceNames.isHugePages(name) {
                usage[name] = request
                usage["requests." + name] = request
            }
            if ResourceNames.isExtended(name) { usage["requests." + name] = request }
        }
        return usage
    }

    /// A container's `resources.requests` or `resources.limits`; unparsable quantities
    /// are left out (validation refuses them before anything is stored).
    package static func containerList(_ container: JSONValue, _ field: String) -> ResourceList {
        var list: ResourceList = [:]
        for (name, value) in container["resources"]?[field]?.objectValue ?? [:] {
            if let text = value.stringValue ?? value.intValue.map { String($0) }, let quantity = try? Quantity(text) {
                list[name] = quantity
            }
        }
        return list
    }

    /// `resourcehelper.PodRequests`/`PodLimits`: the containers' sum; init containers run
    /// one at a time, so the pod needs the most any of them needs together with the sidecars
    /// (restartable init containers) started before it; sidecars also run beside the
    /// containers; plus the pod overhead. `amounts` reads a container's list (its `field` by
    /// default; the scheduler reads requests with a limit standing in for a missing request).
    package static func podTotal(_ spec: JSONValue, _ field: String,
                                 amounts: ((JSONValue) -> ResourceList)? = nil) -> ResourceList {
        let amounts = amounts ?? { containerList($0, field) }
        var total: ResourceList = [:]
        for container in spec["containers"]?.arrayValue ?? [] {
            total = ResourceLists.add(total, amounts(container))
        }
        var sidecars: ResourceList = [:]
        var initMaximum: ResourceList = [:]
        for container in spec["initContainers"]?.arrayValue ?? [] {
            var needed = amounts(container)
            if container["restartPolicy"]?.stringValue == "Always" {
                total = ResourceLists.add(total, needed)
                sidecars = ResourceLists.add(sidecars, needed)
                needed = sidecars
            } else {
                needed = ResourceLists.add(needed, sidecars)
            }
            initMaximum = maximum(initMaximum, needed)
        }
        total = maximum(total, initMaximum)
        var overhead: ResourceList = [:]
        for (name, value) in spec["overhead"]?.objectValue ?? [:] {
            if let text = value.stringValue, let quantity = try? Quantity(text) { overhead[name] = quantity }
        }
        // Upstream adds the overhead only to resources the pod already has (for limits) or to all (requests).
        if field == "limits" {
            for (name, quantity) in overhead where total[name] != nil { total[name] = (total[name] ?? .zero) + quantity }
            return total
        }
        return ResourceLists.add(total, overhead)
    }

    /// `quota.Max`: per name, the larger value.
    static func maximum(_ lhs: ResourceList, _ rhs: ResourceList) -> ResourceList {
        var result = lhs
        for (name, quantity) in rhs where result[name].map({ quantity > $0 }) ?? true {
            result[name] = quantity
        }
        return result
    }

    // MARK: - Scopes

    /// `Matches`: the quota limits something this resource answers for, and the object is in
    /// every scope of the quota. `hard` is the quota's status.hard in admission, its
    /// spec.hard in the controller.
    package func matches(hard: some Sequence<String>, scopes: [ScopedResourceSelectorRequirement], object: KubeObject) -> Bool {
        !matchingResources(hard).isEmpty && matchesScopes(scopes, object: object)
    }

    /// Whether the object is in every scope (resources other than pods are in none:
    /// `MatchesNoScopeFunc`).
    package func matchesScopes(_ scopes: [ScopedResourceSelectorRequirement], object: KubeObject) -> Bool {
        scopes.allSatisfy { requirement in
            guard kind == .pods else { return false }
            return Self.podMatches(requirement, pod: object)
        }
    }

    /// `podMatchesScopeFunc`.
    static func podMatches(_ requirement: ScopedResourceSelectorRequirement, pod: KubeObject) -> Bool {
        switch requirement.scopeName {
        case "Terminating": return isTerminating(pod)
        case "NotTerminating": return !isTerminating(pod)
        case "BestEffort": return isBestEffort(pod)
        case "NotBestEffort": return !isBestEffort(pod)
        case "PriorityClass":
            let className = pod.string(at: ["spec", "priorityClassName"]) ?? ""
            let values = requirement.values ?? []
            switch requirement.operator {
            case "In": return !className.isEmpty && values.contains(className)
            case "NotIn": return className.isEmpty || !values.contains(className)
            case "Exists": return !className.isEmpty
            case "DoesNotExist": return className.isEmpty
            default: return false
            }
        case "CrossNamespacePodAffinity": return usesCrossNamespacePodAffinity(pod)
        default: return false
        }
    }

    /// `isTerminating`: an active deadline bounds the pod's life.
    static func isTerminating(_ pod: KubeObject) -> Bool {
        (pod.value(at: ["spec", "activeDeadlineSeconds"])?.intValue ?? -1) >= 0
    }

    /// `qos.GetPodQOS(pod) == BestEffort`: no container requests or limits a non-zero cpu or memory.
    package static func isBestEffort(_ pod: KubeObject) -> Bool {
        let containers = (pod.value(at: ["spec", "containers"])?.arrayValue ?? []) + (pod.value(at: ["spec", "initContainers"])?.arrayValue ?? [])
        for container in containers {
            for field in ["requests", "limits"] {
                let list = containerList(container, field)
                if list["cpu"].map({ !$0.isZero }) == true || list["memory"].map({ !$0.isZero }) == true { return false }
            }
        }
        return true
    }

    /// `usesCrossNamespacePodAffinity`: an affinity or anti-affinity term names namespaces
    /// or has a namespace selector.
    static func usesCrossNamespacePodAffinity(_ pod: KubeObject) -> Bool {
        for kind in ["podAffinity", "podAntiAffinity"] {
            guard let affinity = pod.value(at: ["spec", "affinity", kind]) else { continue }
            let required = affinity["requiredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []
            let preferred = (affinity["preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []).compactMap { $0["podAffinityTerm"] }
            for term in required + preferred {
                if !(term["namespaces"]?.arrayValue ?? []).isEmpty { return true }
                if let selector = term["namespaceSelector"], selector != .null { return true }
            }
        }
        return false
    }

    // MARK: - Constraints

    /// `podEvaluator.Constraints`: when a quota limits cpu or memory (requests or limits),
    /// every container must declare it (a backward-compatibility rule upstream keeps).
    /// Returns upstream's message (`must specify limits.cpu for: c1,c2; requests.memory for: c1`)
    /// or nil.
    package func constraintViolation(required: [String], object: KubeObject) -> String? {
        guard kind == .pods else { return nil }
        let requiredSet = Set(required).intersection(ResourceNames.podCompute)
        guard !requiredSet.isEmpty else { return nil }
        var missing: [String: Set<String>] = [:]
        let containers = (object.value(at: ["spec", "containers"])?.arrayValue ?? []) + (object.value(at: ["spec", "initContainers"])?.arrayValue ?? [])
        for container in containers {
            let declared = Set(Self.computeUsage(requests: Self.containerList(container, "requests"),
                                                 limits: Self.containerList(container, "limits")).keys)
            for name in requiredSet.subtracting(declared) {
                missing[name, default: []].insert(container["name"]?.stringValue ?? "")
            }
        }
        guard !missing.isEmpty else { return nil }
        let parts = missing.keys.sorted().map { "\($0) for: \((missing[$0] ?? []).sorted().joined(separator: ","))" }
        return "must specify " + parts.joined(separator: "; ")
    }
}
