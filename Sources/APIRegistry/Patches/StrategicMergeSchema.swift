/// The merge keys of the built-in types' lists, from their Go struct tags
/// (`patchStrategy:"merge" patchMergeKey:"name"`), keyed by dotted field path from the
/// object's root. Lists not named here are replaced by a patch.
enum StrategicMergeSchema {
    struct Rule: Sendable {
        /// The field identifying elements; nil for merged lists of primitives.
        let mergeKey: String?
    }

    /// The lists of an `ObjectMeta`.
    static let metadata: [String: Rule] = [
        "metadata.finalizers": Rule(mergeKey: nil),
        "metadata.ownerReferences": Rule(mergeKey: "uid"),
    ]

    /// The lists of a `PodSpec`, relative to the spec.
    static let podSpec: [String: Rule] = {
        var rules: [String: Rule] = [
            "containers": Rule(mergeKey: "name"),
            "initContainers": Rule(mergeKey: "name"),
            "ephemeralContainers": Rule(mergeKey: "name"),
            "volumes": Rule(mergeKey: "name"),
            "imagePullSecrets": Rule(mergeKey: "name"),
            "hostAliases": Rule(mergeKey: "ip"),
            "topologySpreadConstraints": Rule(mergeKey: "topologyKey"),
            "schedulingGates": Rule(mergeKey: "name"),
            "resourceClaims": Rule(mergeKey: "name"),
        ]
        for containers in ["containers", "initContainers", "ephemeralContainers"] {
            rules["\(containers).ports"] = Rule(mergeKey: "containerPort")
            rules["\(containers).env"] = Rule(mergeKey: "name")
            rules["\(containers).volumeMounts"] = Rule(mergeKey: "mountPath")
            rules["\(containers).volumeDevices"] = Rule(mergeKey: "devicePath")
        }
        return rules
    }()

    /// The lists of a `PodStatus`, relative to the status.
    static let podStatus: [String: Rule] = [
        "conditions": Rule(mergeKey: "type"),
        "podIPs": Rule(mergeKey: "ip"),
        "hostIPs": Rule(mergeKey: "ip"),
    ]

    static func prefixed(_ prefix: String, _ rules: [String: Rule]) -> [String: Rule] {
        Dictionary(uniqueKeysWithValues: rules.map { (prefix + $0.key, $0.value) })
    }

    /// Every rule for objects of `kind`.
    static func rules(for kind: String) -> [String: Rule] {
        var rules = metadata
        switch kind {
        case "Pod":
            rules.merge(prefixed("spec.", podSpec)) { $1 }
            rules.merge(prefixed("status.", podStatus)) { $1 }
        case "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job":
            rules.merge(prefixed("spec.template.spec.", podSpec)) { $1 }
            rules.merge(prefixed("spec.template.", metadata)) { $1 }
            rules["status.conditions"] = Rule(mergeKey: "type")
        case "CronJob":
            rules.merge(prefixed("spec.jobTemplate.spec.template.spec.", podSpec)) { $1 }
            rules.merge(prefixed("spec.jobTemplate.spec.template.", metadata)) { $1 }
            rules.merge(prefixed("spec.jobTemplate.", metadata)) { $1 }
        case "Service":
            rules["spec.ports"] = Rule(mergeKey: "port")
            rules["status.conditions"] = Rule(mergeKey: "type")
        case "Node":
            rules["spec.podCIDRs"] = Rule(mergeKey: nil)
            rules["status.conditions"] = Rule(mergeKey: "type")
            rules["status.addresses"] = Rule(mergeKey: "type")
            rules["status.volumesAttached"] = Rule(mergeKey: "name")
        case "Namespace":
            rules["status.conditions"] = Rule(mergeKey: "type")
        case "ServiceAccount":
            rules["secrets"] = Rule(mergeKey: "name")
        default:
            break
        }
        return rules
    }
}
