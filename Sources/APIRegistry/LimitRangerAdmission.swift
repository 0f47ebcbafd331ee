import APIMachinery
import Foundation
import KubeAPI

/// The LimitRanger admission plugin for new pods, as kube-apiserver runs it
/// (plugin/pkg/admission/limitranger/admission.go):
/// - mutating, before the ServiceAccount plugin: each LimitRange of the namespace gives every
///   container and init container the `default` limits and `defaultRequest` requests of its
///   `Container` item for the resources the container leaves unset, and the pod is annotated
///   `kubernetes.io/limit-ranger: LimitRanger plugin set: cpu, memory request for container web; ...`;
/// - validating, after the pod is validated: each `Container` item's min, max and
///   maxLimitRequestRatio per container, each `Pod` item's over the pod's totals; a pod that
///   breaks any is refused (403) with upstream's messages, several as one `[a, b]` list.
/// Pod updates are left alone, as upstream: containers' resources cannot change after create.
enum LimitRangerAdmission {
    static let annotation = "kubernetes.io/limit-ranger"

    /// The namespace's LimitRanges, decoded (ones that no longer decode are skipped).
    static func limitRanges(namespace: String, store: ResourceStore) async throws(APIError) -> [LimitRange] {
        let items = try await store.list(namespace: namespace, options: ListOptions()).items
        return items.compactMap { object in
            try? Manifest.decode(LimitRange.self, value: object.json)
        }
    }

    // MARK: Mutating

    /// `PodMutateLimitFunc` for every LimitRange in turn.
    static func admit(_ pod: inout KubeObject, limitRanges: [LimitRange]) {
        for limitRange in limitRanges {
            var requests: [String: String] = [:], limits: [String: String] = [:]
            for item in limitRange.spec?.limits ?? [] where item.type == LimitRangeItem.container {
                for (name, value) in item.defaultRequest ?? [:] { requests[name] = value.description }
                for (name, value) in item.default ?? [:] { limits[name] = value.description }
            }
            guard !requests.isEmpty || !limits.isEmpty else { continue }
            merge(&pod, requests: requests, limits: limits)
        }
    }

    /// `mergePodResourceRequirements`: containers first, then init containers; the
    /// annotation lists what was set, in that order.
    private static func merge(_ pod: inout KubeObject, requests: [String: String], limits: [String: String]) {
        guard var spec = pod.fields["spec"]?.objectValue else { return }
        var notes: [String] = []
        for (key, label) in [("containers", "container"), ("initContainers", "init container")] {
            guard var containers = spec[key]?.arrayValue else { continue }
            for index in containers.indices {
                guard case .object(var container) = containers[index] else { continue }
                var resources = container["resources"]?.objectValue ?? [:]
                let name = container["name"]?.stringValue ?? ""
                var containerLimits = resources["limits"]?.objectValue ?? [:]
                var containerRequests = resources["requests"]?.objectValue ?? [:]
                // Upstream decodes (and so defaults) the pod before admission: a limit
                // without a request is already that request (`SetDefaults_Pod`).
                for (resource, value) in containerLimits where containerRequests[resource] == nil {
                    containerRequests[resource] = value
                }
                var setLimits: [String] = [], setRequests: [String] = []
                for (resource, value) in limits where containerLimits[resource] == nil {
                    containerLimits[resource] = .string(value)
                    setLimits.append(resource)
                }
                for (resource, value) in requests where containerRequests[resource] == nil {
                    containerRequests[resource] = .string(value)
                    setRequests.append(resource)
                }
                if !setRequests.isEmpty { notes.append(setRequests.sorted().joined(separator: ", ") + " request for \(label) \(name)") }
                if !setLimits.isEmpty { notes.append(setLimits.sorted().joined(separator: ", ") + " limit for \(label) \(name)") }
                guard !setLimits.isEmpty || !setRequests.isEmpty else { continue }
                // (The requests copied from limits above are written back with the defaults;
                // the pod strategy would add them anyway.)
                if !containerLimits.isEmpty { resources["limits"] = .object(containerLimits) }
                if !containerRequests.isEmpty { resources["requests"] = .object(containerRequests) }
                container["resources"] = .object(resources)
                containers[index] = .object(container)
            }
            spec[key] = .array(containers)
        }
        pod.fields["spec"] = .object(spec)
        if !notes.isEmpty {
            var metadata = pod.metadata
            var annotations = metadata["annotations"]?.objectValue ?? [:]
            annotations[annotation] = .string("LimitRanger plugin set: " + notes.joined(separator: "; "))
            metadata["annotations"] = .object(annotations)
            pod.metadata = metadata
        }
    }

    // MARK: Validating

    /// `PodValidateLimitFunc` for every LimitRange: the messages of what the pod breaks.
    static func violations(_ pod: KubeObject, limitRanges: [LimitRange]) -> [String] {
        var errors: [String] = []
        let spec = pod.fields["spec"] ?? .object([:])
        let containers = (spec["containers"]?.arrayValue ?? []) + (spec["initContainers"]?.arrayValue ?? [])
        for limitRange in limitRanges {
            for item in limitRange.spec?.limits ?? [] {
                switch item.type {
                case LimitRangeItem.container:
                    for container in containers {
                        errors += check(item, requests: QuotaEvaluator.containerList(container, "requests"),
                                        limits: QuotaEvaluator.containerList(container, "limits"))
                    }
                case LimitRangeItem.pod:
                    errors += check(item, requests: QuotaEvaluator.podTotal(spec, "requests"), limits: QuotaEvaluator.podTotal(spec, "limits"))
                default:
                    break
                }
            }
        }
        return errors
    }

    /// `PersistentVolumeClaimValidateLimitFunc`: a claim's requests within the PersistentVolumeClaim
    /// items' min and max (no limits, no ratios, no defaults for claims).
    static func claimViolations(_ claim: KubeObject, limitRanges: [LimitRange]) -> [String] {
        var requests: ResourceList = [:]
        for (name, value) in claim.value(at: ["spec", "resources", "requests"])?.objectValue ?? [:] {
            requests[name] = KubeObject.quantity(value)
        }
        var errors: [String] = []
        for limitRange in limitRanges {
            for item in limitRange.spec?.limits ?? [] where item.type == LimitRangeItem.persistentVolumeClaim {
                let bounds = LimitRangeItem(type: item.type, max: item.max, min: item.min)
                errors += check(bounds, requests: requests, limits: [:], requestsOnly: true)
            }
        }
        return errors
    }

    /// Refuses the pod or claim when `violations` found any (`utilerrors.NewAggregate`: one
    /// message alone, several as `[a, b]`).
    static func validate(_ object: KubeObject, resource: String, limitRanges: [LimitRange]) throws(APIError) {
        let errors = resource == "persistentvolumeclaims" ? claimViolations(object, limitRanges: limitRanges)
            : violations(object, limitRanges: limitRanges)
        guard !errors.isEmpty else { return }
        let message = errors.count == 1 ? errors[0] : "[" + errors.joined(separator: ", ") + "]"
        throw APIError.forbidden(GroupResource(group: "", resource: resource), name: object.name ?? "", message)
    }

    /// min, max and ratio constraints of one item over one container or pod.
    /// `requestsOnly`: a claim's `maxRequestConstraint`, which looks at the request alone.
    private static func check(_ item: LimitRangeItem, requests: ResourceList, limits: ResourceList, requestsOnly: Bool = false) -> [String] {
        var errors: [String] = []
        let type = item.type
        for (name, enforced) in (item.min ?? [:]).sorted(by: { $0.key < $1.key }) {
            let (request, limit, bound) = comparable(requests[name], limits[name], enforced)
            if requests[name] == nil {
                errors.append("minimum \(name) usage per \(type) is \(enforced).  No request is specified")
            } else if request < bound {
                errors.append("minimum \(name) usage per \(type) is \(enforced), but request is \(requests[name]?.description ?? "0")")
            } else if let observed = limits[name], limit < bound {
                errors.append("minimum \(name) usage per \(type) is \(enforced), but limit is \(observed)")
            }
        }
        for (name, enforced) in (item.max ?? [:]).sorted(by: { $0.key < $1.key }) {
            let (request, limit, bound) = comparable(requests[name], limits[name], enforced)
            if requestsOnly {
                if requests[name] == nil {
                    errors.append("maximum \(name) usage per \(type) is \(enforced).  No request is specified")
                } else if request > bound {
                    errors.append("maximum \(name) usage per \(type) is \(enforced), but request is \(requests[name]?.description ?? "0")")
                }
                continue
            }
            if limits[name] == nil {
                errors.append("maximum \(name) usage per \(type) is \(enforced).  No limit is specified")
            } else if limit > bound {
                errors.append("maximum \(name) usage per \(type) is \(enforced), but limit is \(limits[name]?.description ?? "0")")
            } else if let observed = requests[name], request > bound {
                errors.append("maximum \(name) usage per \(type) is \(enforced), but request is \(observed)")
            }
        }
        for (name, enforced) in (item.maxLimitRequestRatio ?? [:]).sorted(by: { $0.key < $1.key }) {
            let (request, limit, _) = comparable(requests[name], limits[name], enforced)
            if requests[name] == nil || request == 0 {
                errors.append("\(name) max limit to request ratio per \(type) is \(enforced), but no request is specified or request is 0")
                continue
            }
            if limits[name] == nil || limit == 0 {
                errors.append("\(name) max limit to request ratio per \(type) is \(enforced), but no limit is specified or limit is 0")
                continue
            }
            let displayed = Double(limit) / Double(request)
            var observed = displayed
            var maximum = Double(enforced.value)
            if enforced.value <= LimitRangeValidation.maxMilliValue {
                observed *= 1000
                maximum = Double(enforced.milliValue)
            }
            if observed > maximum {
                errors.append("\(name) max limit to request ratio per \(type) is \(enforced), but provided ratio is \(String(format: "%f", displayed))")
            }
        }
        return errors
    }

    /// `requestLimitEnforcedValues`: whole units, or milli-units when all three fit.
    private static func comparable(_ request: Quantity?, _ limit: Quantity?, _ enforced: Quantity) -> (Int64, Int64, Int64) {
        let request = request ?? .zero, limit = limit ?? .zero
        let maximum = LimitRangeValidation.maxMilliValue
        if request.value <= maximum, limit.value <= maximum, enforced.value <= maximum {
            return (request.milliValue, limit.milliValue, enforced.milliValue)
        }
        return (request.value, limit.value, enforced.value)
    }
}
