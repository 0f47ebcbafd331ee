/// The resource-name rules of pkg/apis/core/helper (helpers.go) that quota and limit range
/// validation use: which names are standard, which count whole objects, which scopes apply
/// to which names.
public enum ResourceNames {
    /// `standardResources`: names valid without a domain prefix.
    public static let standard: Set<String> = [
        "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
        "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "services", "replicationcontrollers",
        "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims", "storage", "requests.storage",
        "services.nodeports", "services.loadbalancers",
    ]

    /// `standardQuotaResources`: what a quota may limit without a domain prefix.
    public static let standardQuota: Set<String> = [
        "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
        "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
        "resourcequotas", "services", "replicationcontrollers", "secrets", "persistentvolumeclaims", "configmaps",
        "services.nodeports", "services.loadbalancers",
    ]

    /// `standardContainerResources`.
    public static let standardContainer: Set<String> = ["cpu", "memory", "ephemeral-storage"]

    /// `integerResources`: counted in whole units.
    public static let integer: Set<String> = [
        "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
        "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
    ]

    /// `standardResourceQuotaScopes` (VolumeAttributesClass is behind a feature gate that is
    /// off by default in 1.32, and swiftlet serves no PersistentVolumeClaims).
    public static let quotaScopes: [String] = [
        "Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity",
    ]

    /// `standardLimitRangeTypes`.
    public static let limitRangeTypes: Set<String> = ["Pod", "Container", "PersistentVolumeClaim"]

    /// The resources that count pods (`podObjectCountQuotaResources`) and their compute
    /// resources (`podComputeQuotaResources`): what the pod scopes apply to.
    public static let podObjectCount: Set<String> = ["pods"]
    public static let podCompute: Set<String> = ["cpu", "memory", "limits.cpu", "limits.memory", "requests.cpu", "requests.memory"]

    /// `IsHugePageResourceName`.
    public static func isHugePages(_ name: String) -> Bool { name.hasPrefix("hugepages-") }

    /// `IsQuotaHugePageResourceName`.
    public static func isQuotaHugePages(_ name: String) -> Bool {
        name.hasPrefix("hugepages-") || name.hasPrefix("requests.hugepages-")
    }

    /// `IsNativeResource`: no domain prefix, or a kubernetes.io one.
    public static func isNative(_ name: String) -> Bool {
        !name.contains("/") || name.contains("kubernetes.io/")
    }

    /// `IsExtendedResourceName`: a vendor resource such as `nvidia.com/gpu`.
    public static func isExtended(_ name: String) -> Bool {
        !isNative(name) && !name.hasPrefix("requests.") && NameRules.qualifiedName("requests." + name).isEmpty
    }

    /// `IsStandardResourceName`.
    public static func isStandard(_ name: String) -> Bool { standard.contains(name) || isQuotaHugePages(name) }

    /// `IsStandardQuotaResourceName`.
    public static func isStandardQuota(_ name: String) -> Bool { standardQuota.contains(name) || isQuotaHugePages(name) }

    /// `IsIntegerResourceName`.
    public static func isInteger(_ name: String) -> Bool { integer.contains(name) || isExtended(name) }

    /// `IsOvercommitAllowed`: native and not hugepages.
    public static func isOvercommitAllowed(_ name: String) -> Bool { isNative(name) && !isHugePages(name) }

    /// `IsResourceQuotaScopeValidForResource`.
    public static func isScope(_ scope: String, validFor name: String) -> Bool {
        switch scope {
        case "Terminating", "NotTerminating", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity":
            return podObjectCount.contains(name) || podCompute.contains(name)
        case "BestEffort":
            return podObjectCount.contains(name)
        default:
            return true
        }
    }
}
