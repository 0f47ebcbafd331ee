import APIMachinery
import KubeAPI

/// Pods: decoded into `KubeAPI.Pod`, defaulted and validated with Kubernetes' rules and
/// messages (`withDefaults()`, `validate()`), status reset to Pending on create, the spec
/// immutable on update except images, activeDeadlineSeconds and added tolerations, and
/// graceful deletion once a node runs the pod.
struct PodStrategy: ResourceStrategy {
    /// The `tolerationSeconds` of the tolerations DefaultTolerationSeconds adds.
    var defaultTolerationSeconds: Int64 = 300

    var validatesMetadata: Bool { true }
    var returnsDeletedObject: Bool { true }

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        var (pod, warnings) = try TypedCodec.decode(Pod.self, from: object.json, kind: "Pod", version: "v1",
                                                   validation: context.fieldValidation)
        pod = Self.admit(pod.withDefaults(), defaultTolerationSeconds: defaultTolerationSeconds)
        // `PrepareForCreate`: a new pod is Pending with its QoS class, whatever the body said.
        pod.status = PodStatus(phase: "Pending", qosClass: Self.qosClass(pod.spec))
        pod.metadata.generation = 1
        var errors = pod.validate()
        // `ValidatePodCreate`: ephemeral containers come only through their subresource.
        if !(pod.spec.ephemeralContainers ?? []).isEmpty {
            errors.append(ValidationError(type: .forbidden, field: "spec.ephemeralContainers", detail: "cannot be set on create"))
        }
        guard errors.isEmpty else {
            throw APIError.invalid(kind: "Pod", group: "", name: pod.metadata.name ?? "", errors: errors)
        }
        object = KubeObject(fields: try TypedCodec.encode(pod).objectValue ?? [:])
        return warnings
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        var (pod, warnings) = try TypedCodec.decode(Pod.self, from: object.json, kind: "Pod", version: "v1",
                                                   validation: context.fieldValidation)
        let (oldPod, _) = try TypedCodec.decode(Pod.self, from: old.json, kind: "Pod", version: "v1", validation: .ignore)
        pod = Self.keepAdmittedFields(pod.withDefaults(), from: oldPod)
        // The main resource never changes status (that is pods/status).
        pod.status = oldPod.status
        var errors = pod.validate()
        if errors.isEmpty, let forbidden = Self.forbiddenSpecChange(new: pod.spec, old: oldPod.spec) {
            errors.append(forbidden)
        }
        guard errors.isEmpty else {
            throw APIError.invalid(kind: "Pod", group: "", name: pod.metadata.name ?? "", errors: errors)
        }
        object = KubeObject(fields: try TypedCodec.encode(pod).objectValue ?? [:])
        return warnings
    }

    /// pods/ephemeralcontainers (`podEphemeralContainersStrategy`): the stored pod with the
    /// request's ephemeral containers, defaulted; the whole pod validated, and
    /// `ValidatePodEphemeralContainersUpdate`'s rules: a static pod's mirror takes none, and
    /// those already there may be neither removed nor changed (they may have run).
    func prepareForEphemeralContainersUpdate(_ object: inout KubeObject, old: KubeObject,
                                             context: StrategyContext) async throws(APIError) -> [String] {
        var (pod, warnings) = try TypedCodec.decode(Pod.self, from: object.json, kind: "Pod", version: "v1",
                                                   validation: context.fieldValidation)
        // `object` is `old` but for its ephemeral containers: only those of `old` are needed.
        let (stored, _) = try TypedCodec.decode([EphemeralContainer].self, from: old.value(at: ["spec", "ephemeralContainers"]) ?? .array([]),
                                                  kind: "Pod", version: "v1", validation: .ignore)
        let name = pod.metadata.name ?? ""
        if pod.metadata.annotations?["kubernetes.io/config.mirror"] != nil {
            throw APIError.invalid(kind: "Pod", group: "", name: name, errors: [
                ValidationError(type: .forbidden, field: "", detail: "static pods do not support ephemeral containers"),
            ])
        }
        pod = pod.withDefaults()
        if pod.spec.ephemeralContainers?.isEmpty == true { pod.spec.ephemeralContainers = nil }
        var errors = pod.validate()
        let new = Dictionary((pod.spec.ephemeralContainers ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for existing in stored {
            guard let replacement = new[existing.name] else {
                errors.append(ValidationError(type: .forbidden, field: "spec.ephemeralContainers",
                                              detail: "existing ephemeral containers \"\(existing.name)\" may not be removed\n"))
                continue
            }
            if replacement != existing {
                errors.append(ValidationError(type: .forbidden, field: "spec.ephemeralContainers",
                                              detail: "existing ephemeral containers \"\(existing.name)\" may not be changed\n"))
            }
        }
        guard errors.isEmpty else {
            throw APIError.invalid(kind: "Pod", group: "", name: name, errors: errors)
        }
        object = KubeObject(fields: try TypedCodec.encode(pod).objectValue ?? [:])
        return warnings
    }

    /// What the default admission plugins add to a new pod: the `default` ServiceAccount
    /// (ServiceAccount; not for mirror pods), priority 0 when no class is named (Priority), and
    /// `defaultTolerationSeconds` of tolerance for not-ready and unreachable nodes
    /// (DefaultTolerationSeconds), unless the pod already tolerates those NoExecute taints.
    /// See https://github.com/kubernetes/kubernetes/blob/master/plugin/pkg/admission/defaulttolerationseconds/admission.go
    static func admit(_ pod: Pod, defaultTolerationSeconds: Int64 = 300) -> Pod {
        var pod = pod
        // The ServiceAccount plugin leaves mirror pods alone: a mirror pod names no API object
        // (NodeRestriction refuses one that does), and its kubelet compares it with its file.
        let isMirror = pod.metadata.annotations?["kubernetes.io/config.mirror"] != nil
        if (pod.spec.serviceAccountName ?? "").isEmpty, !isMirror {
            pod.spec.serviceAccountName = (pod.spec.serviceAccount ?? "").isEmpty ? "default" : pod.spec.serviceAccount
        }
        pod.spec.serviceAccount = pod.spec.serviceAccountName
        if (pod.spec.priorityClassName ?? "").isEmpty, pod.spec.priority == nil {
            pod.spec.priority = 0
        }
        if pod.spec.preemptionPolicy == nil {
            pod.spec.preemptionPolicy = "PreemptLowerPriority"
        }
        var tolerations = pod.spec.tolerations ?? []
        for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
            // Upstream looks for a toleration of exactly this key and effect NoExecute (or any
            // effect); a wildcard toleration (empty key, Exists) also tolerates it.
            let tolerated = tolerations.contains { toleration in
                let effectMatches = toleration.effect == nil || toleration.effect == "" || toleration.effect == "NoExecute"
                let keyMatches = toleration.key == key || ((toleration.key ?? "").isEmpty && toleration.operator == "Exists")
                return effectMatches && keyMatches
            }
            if !tolerated {
                tolerations.append(Toleration(key: key, operator: "Exists", effect: "NoExecute", tolerationSeconds: defaultTolerationSeconds))
            }
        }
        pod.spec.tolerations = tolerations
        return pod
    }

    /// A pod on a node is stopped by its kubelet first: deletion waits for it. A pod never
    /// scheduled, or already finished, goes at once (`CheckGracefulDelete`).
    func gracePeriod(for object: KubeObject, requested: Int64?) -> Int64? {
        let phase = object.string(at: ["status", "phase"]) ?? ""
        guard let node = object.string(at: ["spec", "nodeName"]), !node.isEmpty, phase != "Succeeded", phase != "Failed" else {
            return nil
        }
        let grace = requested ?? object.value(at: ["spec", "terminationGracePeriodSeconds"])?.intValue ?? 30
        return grace > 0 ? grace : nil
    }

    /// What the admission plugins set on create, taken from the stored pod when an update
    /// leaves it out, so a client that sends back only what it wrote is not refused for a
    /// "spec change" (issue 17): `priority` and `preemptionPolicy` as the Priority plugin does
    /// on update; the service account (upstream's internal type has only `serviceAccountName`,
    /// `serviceAccount` being its deprecated alias in v1) likewise.
    static func keepAdmittedFields(_ pod: Pod, from old: Pod) -> Pod {
        var pod = pod
        if pod.spec.priority == nil { pod.spec.priority = old.spec.priority }
        if pod.spec.preemptionPolicy == nil { pod.spec.preemptionPolicy = old.spec.preemptionPolicy }
        if (pod.spec.serviceAccountName ?? "").isEmpty {
            pod.spec.serviceAccountName = (pod.spec.serviceAccount ?? "").isEmpty ? old.spec.serviceAccountName : pod.spec.serviceAccount
        }
        if (pod.spec.serviceAccount ?? "").isEmpty { pod.spec.serviceAccount = pod.spec.serviceAccountName }
        return pod
    }

    /// `ValidatePodUpdate`'s rule: only images, activeDeadlineSeconds, tolerations (additions)
    /// and terminationGracePeriodSeconds may change.
    static func forbiddenSpecChange(new: PodSpec, old: PodSpec) -> ValidationError? {
        var masked = new
        masked.activeDeadlineSeconds = old.activeDeadlineSeconds
        masked.tolerations = old.tolerations
        masked.terminationGracePeriodSeconds = old.terminationGracePeriodSeconds
        for index in masked.containers.indices where index < old.containers.count {
            masked.containers[index].image = old.containers[index].image
        }
        if var initContainers = masked.initContainers, let oldInit = old.initContainers {
            for index in initContainers.indices where index < oldInit.count {
                initContainers[index].image = oldInit[index].image
            }
            masked.initContainers = initContainers
        }
        // Tolerations may only be added to.
        let oldTolerations = old.tolerations ?? []
        let kept = (new.tolerations ?? []).filter { oldTolerations.contains($0) }
        guard masked == old, kept.count == oldTolerations.count else {
            return ValidationError(type: .forbidden, field: "spec", detail: """
                pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,\
                `spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),\
                `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)
                """)
        }
        return nil
    }

    /// `GetPodQOS`: Guaranteed when every container has equal cpu and memory requests and
    /// limits, BestEffort when none has any, Burstable otherwise.
    static func qosClass(_ spec: PodSpec) -> String {
        let containers = spec.containers + (spec.initContainers ?? [])
        var anySet = false
        var guaranteed = true
        for container in containers {
            let requests = container.resources?.requests ?? [:]
            let limits = container.resources?.limits ?? [:]
            if !requests.isEmpty || !limits.isEmpty { anySet = true }
            for resource in ["cpu", "memory"] {
                guard let limit = limits[resource] else {
                    guaranteed = false
                    continue
                }
                if let request = requests[resource], request != limit { guaranteed = false }
            }
        }
        if !anySet { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
