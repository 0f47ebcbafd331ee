import Foundation

/// Resource and security context checks: `validateResourceRequirements`,
/// `validateContainerResourceName`, `ValidateSecurityContext`, `validatePodSpecSecurityContext`.
extension PodValidator {
    /// `standardResources` of pkg/apis/core/helper: names valid without a domain prefix.
    private static let standardResources: Set<String> = [
        "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
        "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "services", "replicationcontrollers",
        "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims", "storage", "requests.storage",
        "services.nodeports", "services.loadbalancers",
    ]
    /// Resources counted in whole units (`integerResources`, plus extended resources).
    private static let integerResources: Set<String> = [
        "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
        "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
    ]

    private static func isHugePages(_ name: String) -> Bool {
        name.hasPrefix("hugepages-")
    }

    /// No domain prefix, or a kubernetes.io one.
    private static func isNative(_ name: String) -> Bool {
        !name.contains("/") || name.contains("kubernetes.io/")
    }

    /// A vendor resource such as "nvidia.com/gpu".
    private static func isExtended(_ name: String) -> Bool {
        !isNative(name) && !name.hasPrefix("requests.") && NameRules.qualifiedName("requests." + name).isEmpty
    }

    /// Only native, non-hugepage resources may be requested below their limit.
    private static func isOvercommitAllowed(_ name: String) -> Bool {
        isNative(name) && !isHugePages(name)
    }

    /// `ValidateContainerResourceRequirements`; map keys are visited in sorted order.
    mutating func validateResources(_ requirements: ResourceRequirements, path: String) {
        let limits = requirements.limits ?? [:]
        let requests = requirements.requests ?? [:]
        let limitsPath = path + ".limits"
        let requestsPath = path + ".requests"
        var cpuOrMemory = false
        var hugePages = false
        for name in limits.keys.sorted() {
            guard let quantity = limits[name] else { continue }
            let fieldPath = limitsPath + "[\(name)]"
            validateResourceName(name, path: fieldPath)
            validateQuantity(quantity, of: name, path: fieldPath)
            hugePages = hugePages || Self.isHugePages(name)
            cpuOrMemory = cpuOrMemory || name == "cpu" || name == "memory"
        }
        for name in requests.keys.sorted() {
            guard let quantity = requests[name] else { continue }
            let fieldPath = requestsPath + "[\(name)]"
            validateResourceName(name, path: fieldPath)
            validateQuantity(quantity, of: name, path: fieldPath)
            if let limit = limits[name] {
                if quantity != limit, !Self.isOvercommitAllowed(name) {
                    add(.invalid(requestsPath, quantity.description, "must be equal to \(name) limit of \(limit.description)"))
                } else if quantity > limit {
                    add(.invalid(requestsPath, quantity.description,
                                 "must be less than or equal to \(name) limit of \(limit.description)"))
                }
            } else if !Self.isOvercommitAllowed(name) {
                add(.required(limitsPath, "Limit must be set for non overcommitable resources"))
            }
            hugePages = hugePages || Self.isHugePages(name)
            cpuOrMemory = cpuOrMemory || name == "cpu" || name == "memory"
        }
        if hugePages, !cpuOrMemory {
            add(.forbidden(path, "HugePages require cpu or memory"))
        }
    }

    /// `validateContainerResourceName`: standard, or domain-qualified.
    private mutating func validateResourceName(_ name: String, path: String) {
        let messages = NameRules.qualifiedName(name)
        guard messages.isEmpty else {
            check(messages, path, name)
            return
        }
        if !name.contains("/") {
            if !Self.standardResources.contains(name), !Self.isHugePages(name), !name.hasPrefix("requests.hugepages-") {
                add(.invalid(path, name, "must be a standard resource type or fully qualified"))
            }
            if !["cpu", "memory", "ephemeral-storage"].contains(name), !Self.isHugePages(name) {
                add(.invalid(path, name, "must be a standard resource for containers"))
            }
        } else if !Self.isNative(name), !Self.isExtended(name) {
            add(.invalid(path, name, "doesn't follow extended resource name standard"))
        }
    }

    /// `ValidateResourceQuantityValue`: not negative, whole for countable resources.
    private mutating func validateQuantity(_ quantity: Quantity, of name: String, path: String) {
        if quantity.isNegative {
            add(.invalid(path, quantity.description, "must be greater than or equal to 0"))
        }
        if Self.integerResources.contains(name) || Self.isExtended(name), quantity.milliValue % 1000 != 0 {
            add(.invalid(path, quantity.description, "must be an integer"))
        }
    }

    // MARK: Security contexts

    mutating func validateSecurityContext(_ context: SecurityContext?, hostUsers: Bool, path: String) {
        guard let context else { return }
        for (field, id) in [("runAsUser", context.runAsUser), ("runAsGroup", context.runAsGroup)] {
            if let id {
                for message in NameRules.unixID(id) {
                    add(.invalid(path + "." + field, id, message))
                }
            }
        }
        if let procMount = context.procMount {
            if procMount != "Default", procMount != "Unmasked" {
                add(.notSupported(path + ".procMount", procMount, ["Default", "Unmasked"]))
            }
            if hostUsers, procMount == "Unmasked" {
                add(.invalid(path + ".procMount", procMount, "`hostUsers` must be false to use `Unmasked`"))
            }
        }
        validateSeccompProfile(context.seccompProfile, path: path + ".seccompProfile")
        if context.allowPrivilegeEscalation == false {
            if context.privileged == true {
                add(.invalid(path, .json(json(context)), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
            }
            if context.capabilities?.add?.contains("CAP_SYS_ADMIN") == true {
                add(.invalid(path, .json(json(context)),
                             "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
            }
        }
        validateAppArmorProfile(context.appArmorProfile, path: path + ".appArmorProfile")
    }

    mutating func validatePodSecurityContext(_ spec: PodSpec, path: String) {
        let context = spec.securityContext ?? PodSecurityContext()
        if let group = context.fsGroup {
            for message in NameRules.unixID(group) { add(.invalid(path + ".fsGroup", group, message)) }
        }
        for (field, id) in [("runAsUser", context.runAsUser), ("runAsGroup", context.runAsGroup)] {
            if let id {
                for message in NameRules.unixID(id) { add(.invalid(path + "." + field, id, message)) }
            }
        }
        for (index, group) in (context.supplementalGroups ?? []).enumerated() {
            for message in NameRules.unixID(group) { add(.invalid(path + ".supplementalGroups[\(index)]", group, message)) }
        }
        // Kept inside the security context in Kubernetes' internal API, hence the path.
        if spec.shareProcessNamespace == true, spec.hostPID == true {
            add(.invalid(path + ".shareProcessNamespace", .bool(true), "ShareProcessNamespace and HostPID cannot both be enabled"))
        }
        var sysctlNames: Set<String> = []
        for (index, sysctl) in (context.sysctls ?? []).enumerated() {
            let namePath = path + ".sysctls[\(index)].name"
            if sysctl.name.isEmpty {
                add(.required(namePath))
            } else if !Self.isSysctlName(sysctl.name) {
                add(.invalid(namePath, sysctl.name,
                             "must have at most 253 characters and match regex ([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?"))
            } else if sysctlNames.contains(sysctl.name) {
                add(.duplicate(namePath, sysctl.name))
            }
            sysctlNames.insert(sysctl.name)
        }
        if let policy = context.fsGroupChangePolicy, policy != "Always", policy != "OnRootMismatch" {
            add(.notSupported(path + ".fsGroupChangePolicy", policy, ["Always", "OnRootMismatch"]))
        }
        validateSeccompProfile(context.seccompProfile, path: path + ".seccompProfile")
        validateAppArmorProfile(context.appArmorProfile, path: path + ".appArmorProfile")
        if let policy = context.supplementalGroupsPolicy, policy != "Merge", policy != "Strict" {
            add(.notSupported(path + ".supplementalGroupsPolicy", policy, ["Merge", "Strict"]))
        }
    }

    private mutating func validateSeccompProfile(_ profile: SeccompProfile?, path: String) {
        guard let profile else { return }
        validateProfileType(profile.type, localhostProfile: profile.localhostProfile, kind: "seccomp", path: path)
    }

    private mutating func validateAppArmorProfile(_ profile: AppArmorProfile?, path: String) {
        guard let profile else { return }
        validateProfileType(profile.type, localhostProfile: profile.localhostProfile, kind: "AppArmor", path: path)
    }

    /// Seccomp and AppArmor profiles share their shape and rules.
    private mutating func validateProfileType(_ type: String, localhostProfile: String?, kind: String, path: String) {
        switch type {
        case "Localhost", "RuntimeDefault", "Unconfined":
            break
        case "":
            add(.required(path + ".type", "type is required when \(kind == "seccomp" ? "seccompProfile" : "appArmorProfile") is set"))
        default:
            add(.notSupported(path + ".type", type, ["Localhost", "RuntimeDefault", "Unconfined"]))
        }
        if type == "Localhost" {
            if let localhostProfile, !localhostProfile.isEmpty {
                if kind == "seccomp" {
                    validateLocalDescendingPath(localhostProfile, path: path + ".localhostProfile")
                }
            } else {
                add(.required(path + ".localhostProfile", "must be set when \(kind) type is Localhost"))
            }
        } else if localhostProfile != nil {
            add(.invalid(path + ".localhostProfile", localhostProfile ?? "", "can only be set when \(kind) type is Localhost"))
        }
    }

    /// `([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?`, at most 253 bytes.
    private static func isSysctlName(_ name: String) -> Bool {
        guard name.utf8.count <= 253 else { return false }
        let segments = name.split(omittingEmptySubsequences: false) { $0 == "." || $0 == "/" }
        return segments.allSatisfy { segment in
            guard let first = segment.first, let last = segment.last,
                  first.isLowercase || first.isNumber, last.isLowercase || last.isNumber else { return false }
            return segment.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "_" }
        }
    }

    /// A bad value shown as JSON (Kubernetes prints structs that way).
    private func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
