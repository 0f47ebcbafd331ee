import Foundation

/// Kubernetes' pod validation (`ValidatePodCreate`: `ValidateObjectMeta` and
/// `ValidatePodSpec` from pkg/apis/core/validation/validation.go), checking the same things
/// in the same order with the same messages, for the fields this module models.
///
/// Like the API server it validates the object as given: defaults must have been applied
/// already (`Pod.withDefaults()`), or unset defaulted fields are reported as required.
/// Maps are visited in sorted key order so the output is deterministic (Go's is not).
struct PodValidator {
    private(set) var errors: [ValidationError] = []

    mutating func add(_ error: ValidationError) {
        errors.append(error)
    }

    mutating func add(_ errors: [ValidationError]) {
        self.errors += errors
    }

    /// Adds `invalid(path, value, message)` for each message of a format check.
    mutating func check(_ messages: [String], _ path: String, _ value: String) {
        for message in messages {
            add(.invalid(path, value, message))
        }
    }

    mutating func validate(_ pod: Pod) {
        validateMetadata(pod.metadata, path: "metadata")
        validateSpec(pod.spec, path: "spec")
        // Pod-only checks (not applied to pod templates upstream).
        for (group, containers) in [("containers", pod.spec.containers), ("initContainers", pod.spec.initContainers ?? []),
                                    ("ephemeralContainers", (pod.spec.ephemeralContainers ?? []).map(\.container))] {
            for (index, container) in containers.enumerated() {
                if let image = container.image, image != image.trimmingCharacters(in: .whitespacesAndNewlines) {
                    add(.invalid("spec.\(group)[\(index)].image", image, "must not have leading or trailing whitespace"))
                }
            }
        }
    }

    // MARK: Metadata

    private static let standardFinalizers: Set<String> = ["kubernetes", "orphan", "foregroundDeletion"]

    mutating func validateMetadata(_ meta: ObjectMeta, path: String) {
        if let generateName = meta.generateName, !generateName.isEmpty {
            check(NameRules.dns1123Subdomain(prefix: generateName), path + ".generateName", generateName)
        }
        let name = meta.name ?? ""
        if name.isEmpty {
            add(.required(path + ".name", "name or generateName is required"))
        } else {
            check(NameRules.dns1123Subdomain(name), path + ".name", name)
        }
        let namespace = meta.namespace ?? ""
        if namespace.isEmpty {
            add(.required(path + ".namespace"))
        } else {
            check(NameRules.dns1123Label(namespace), path + ".namespace", namespace)
        }
        if let generation = meta.generation, generation < 0 {
            add(.invalid(path + ".generation", generation, "must be greater than or equal to 0"))
        }
        validateLabels(meta.labels ?? [:], path: path + ".labels")
        let annotations = meta.annotations ?? [:]
        for key in annotations.keys.sorted() {
            check(NameRules.qualifiedName(key.lowercased()), path + ".annotations", key)
        }
        if annotations.reduce(0, { $0 + $1.key.utf8.count + $1.value.utf8.count }) > 256 * 1024 {
            add(.tooLong(path + ".annotations", 256 * 1024))
        }
        for reference in meta.ownerReferences ?? [] {
            // The path carries no index upstream either.
            let referencePath = path + ".ownerReferences"
            let version = reference.apiVersion.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            if version.isEmpty {
                add(.invalid(referencePath + ".apiVersion", reference.apiVersion, "version must not be empty"))
            }
            if reference.kind.isEmpty { add(.invalid(referencePath + ".kind", reference.kind, "must not be empty")) }
            if reference.name.isEmpty { add(.invalid(referencePath + ".name", reference.name, "must not be empty")) }
            if reference.uid.isEmpty { add(.invalid(referencePath + ".uid", reference.uid, "must not be empty")) }
        }
        for (index, finalizer) in (meta.finalizers ?? []).enumerated() {
            check(NameRules.qualifiedName(finalizer), path + ".finalizers", finalizer)
            if !finalizer.contains("/"), !Self.standardFinalizers.contains(finalizer) {
                add(.invalid(path + ".finalizers[\(index)]", finalizer,
                             "name is neither a standard finalizer name nor is it fully qualified"))
            }
        }
    }

    /// `ValidateLabels`: errors are reported on the map itself, not on the key.
    mutating func validateLabels(_ labels: [String: String], path: String) {
        for key in labels.keys.sorted() {
            check(NameRules.qualifiedName(key), path, key)
            check(NameRules.labelValue(labels[key] ?? ""), path, labels[key] ?? "")
        }
    }

    // MARK: Spec

    mutating func validateSpec(_ spec: PodSpec, path: String) {
        if spec.terminationGracePeriodSeconds == nil {
            add(.required(path + ".terminationGracePeriodSeconds"))
        }
        let gracePeriod = spec.terminationGracePeriodSeconds
        let hostUsers = spec.hostUsers ?? true
        let volumes = validateVolumes(spec.volumes ?? [], path: path + ".volumes")
        validateContainers(spec.containers, volumes: volumes, gracePeriod: gracePeriod, hostUsers: hostUsers,
                           path: path + ".containers")
        validateInitContainers(spec.initContainers ?? [], regular: spec.containers, volumes: volumes,
                               gracePeriod: gracePeriod, hostUsers: hostUsers, path: path + ".initContainers")
        validateEphemeralContainers(spec.ephemeralContainers ?? [], spec: spec, volumes: volumes, hostUsers: hostUsers,
                                    path: path + ".ephemeralContainers")
        if spec.hostNetwork == true {
            for (containerIndex, container) in spec.containers.enumerated() {
                for (portIndex, port) in (container.ports ?? []).enumerated() where (port.hostPort ?? 0) != port.containerPort {
                    add(.invalid(path + ".containers[\(containerIndex)].ports[\(portIndex)].hostPort", port.hostPort ?? 0,
                                 "must match `containerPort` when `hostNetwork` is true"))
                }
            }
        }
        validateEnum(spec.restartPolicy, path + ".restartPolicy", ["Always", "OnFailure", "Never"])
        validateEnum(spec.dnsPolicy, path + ".dnsPolicy", ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"])
        validateLabels(spec.nodeSelector ?? [:], path: path + ".nodeSelector")
        validatePodSecurityContext(spec, path: path + ".securityContext")
        validateDNSConfig(spec.dnsConfig, policy: spec.dnsPolicy, path: path + ".dnsConfig")
        for (index, gate) in (spec.readinessGates ?? []).enumerated() {
            check(NameRules.qualifiedName(gate.conditionType), path + ".readinessGates[\(index)].conditionType", gate.conditionType)
        }
        if !hostUsers {
            // The odd capitalisation of the last two paths is upstream's.
            if spec.hostNetwork == true { add(.forbidden(path + ".hostNetwork", "when `pod.Spec.HostUsers` is false")) }
            if spec.hostPID == true { add(.forbidden(path + ".HostPID", "when `pod.Spec.HostUsers` is false")) }
            if spec.hostIPC == true { add(.forbidden(path + ".HostIPC", "when `pod.Spec.HostUsers` is false")) }
        }
        for (field, value) in [("serviceAccountName", spec.serviceAccountName), ("nodeName", spec.nodeName)] {
            if let value, !value.isEmpty {
                check(NameRules.dns1123Subdomain(value), path + "." + field, value)
            }
        }
        if let deadline = spec.activeDeadlineSeconds, deadline < 1 || deadline > Int64(Int32.max) {
            add(.invalid(path + ".activeDeadlineSeconds", deadline, "must be between 1 and 2147483647, inclusive"))
        }
        for (field, value) in [("hostname", spec.hostname), ("subdomain", spec.subdomain)] {
            if let value, !value.isEmpty {
                check(NameRules.dns1123Label(value), path + "." + field, value)
            }
        }
        validateTolerations(spec.tolerations ?? [], path: path + ".tolerations")
        for (index, alias) in (spec.hostAliases ?? []).enumerated() {
            let aliasPath = path + ".hostAliases[\(index)]"
            if !NameRules.isIPAddress(alias.ip) {
                add(.invalid(aliasPath + ".ip", alias.ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
            }
            for (hostIndex, hostname) in (alias.hostnames ?? []).enumerated() {
                check(NameRules.dns1123Subdomain(hostname), aliasPath + ".hostnames[\(hostIndex)]", hostname)
            }
        }
        for (field, value) in [("priorityClassName", spec.priorityClassName), ("runtimeClassName", spec.runtimeClassName)] {
            if let value, !value.isEmpty || field == "runtimeClassName" {
                check(NameRules.dns1123Subdomain(value), path + "." + field, value)
            }
        }
        if let policy = spec.preemptionPolicy {
            validateEnum(policy, path + ".preemptionPolicy", ["PreemptLowerPriority", "Never"])
        }
        if let overhead = spec.overhead {
            validateResources(ResourceRequirements(limits: overhead), path: path + ".overhead")
        }
        if let os = spec.os, os.name != "linux", os.name != "windows" {
            add(.notSupported(path + ".os.name", os.name, ["linux", "windows"]))
        }
    }

    /// A string enum: empty is "Required value", anything else unknown is unsupported.
    mutating func validateEnum(_ value: String?, _ path: String, _ supported: [String]) {
        let value = value ?? ""
        if value.isEmpty {
            add(.required(path))
        } else if !supported.contains(value) {
            add(.notSupported(path, value, supported))
        }
    }

    private mutating func validateDNSConfig(_ config: PodDNSConfig?, policy: String?, path: String) {
        if policy == "None" {
            guard let config else {
                add(.required(path, "must provide `dnsConfig` when `dnsPolicy` is None"))
                return
            }
            if (config.nameservers ?? []).isEmpty {
                add(.required(path + ".nameservers", "must provide at least one DNS nameserver when `dnsPolicy` is None"))
                return
            }
        }
        guard let config else { return }
        let nameservers = config.nameservers ?? []
        if nameservers.count > 3 {
            add(.invalid(path + ".nameservers", .json(jsonArray(nameservers)), "must not have more than 3 nameservers"))
        }
        for (index, server) in nameservers.enumerated() where !NameRules.isIPAddress(server) {
            add(.invalid(path + ".nameservers[\(index)]", server, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
        }
        let searches = config.searches ?? []
        if searches.count > 32 {
            add(.invalid(path + ".searches", .json(jsonArray(searches)), "must not have more than 32 search paths"))
        }
        if searches.joined(separator: " ").utf8.count > 2048 {
            add(.invalid(path + ".searches", .json(jsonArray(searches)),
                         "must not have more than 2048 characters (including spaces) in the search list"))
        }
        for (index, search) in searches.enumerated() where search != "." {
            // Relaxed DNS search validation (on by default since 1.32) also allows '_'.
            let trimmed = search.hasSuffix(".") ? String(search.dropLast()) : search
            let checked = trimmed.replacingOccurrences(of: "_", with: "a")
            if !NameRules.dns1123Subdomain(checked).isEmpty {
                check(NameRules.dns1123Subdomain(trimmed), path + ".searches[\(index)]", trimmed)
            }
        }
        for (index, option) in (config.options ?? []).enumerated() where (option.name ?? "").isEmpty {
            add(.required(path + ".options[\(index)]", "must not be empty"))
        }
    }

    private mutating func validateTolerations(_ tolerations: [Toleration], path: String) {
        for (index, toleration) in tolerations.enumerated() {
            let itemPath = path + "[\(index)]"
            let key = toleration.key ?? ""
            let operation = toleration.operator ?? ""
            let effect = toleration.effect ?? ""
            if !key.isEmpty {
                check(NameRules.qualifiedName(key), itemPath + ".key", key)
            }
            if key.isEmpty, operation != "Exists" {
                add(.invalid(itemPath + ".operator", operation,
                             "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
            }
            if toleration.tolerationSeconds != nil, effect != "NoExecute" {
                add(.invalid(itemPath + ".effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
            }
            switch operation {
            case "Equal", "":
                let messages = NameRules.labelValue(toleration.value ?? "")
                if !messages.isEmpty {
                    add(.invalid(itemPath + ".operator", toleration.value ?? "", messages.joined(separator: ";")))
                }
            case "Exists":
                if let value = toleration.value, !value.isEmpty {
                    add(.invalid(itemPath + ".operator", value, "value must be empty when `operator` is 'Exists'"))
                }
            default:
                add(.notSupported(itemPath + ".operator", operation, ["Equal", "Exists"]))
            }
            if !effect.isEmpty, !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(effect) {
                add(.notSupported(itemPath + ".effect", effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"]))
            }
        }
    }

    /// A JSON rendering of a bad value that is a list or an object.
    func jsonArray(_ values: [String]) -> String {
        "[" + values.map { GoQuote.quote($0) }.joined(separator: ",") + "]"
    }
}
