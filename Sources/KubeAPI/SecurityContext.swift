/// Per-container security settings; they override the pod's.
public struct SecurityContext: Codable, Hashable, Sendable {
    public var capabilities: Capabilities?
    public var privileged: Bool?
    public var seLinuxOptions: JSONValue?
    public var windowsOptions: JSONValue?
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool?
    public var readOnlyRootFilesystem: Bool?
    public var allowPrivilegeEscalation: Bool?
    /// "Default" or "Unmasked".
    public var procMount: String?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: AppArmorProfile?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        capabilities: Capabilities? = nil,
        privileged: Bool? = nil,
        seLinuxOptions: JSONValue? = nil,
        windowsOptions: JSONValue? = nil,
        runAsUser: Int64? = nil,
        runAsGroup: Int64? = nil,
        runAsNonRoot: Bool? = nil,
        readOnlyRootFilesystem: Bool? = nil,
        allowPrivilegeEscalation: Bool? = nil,
        procMount: String? = nil,
        seccompProfile: SeccompProfile? = nil,
        appArmorProfile: AppArmorProfile? = nil
    ) {
        self.capabilities = capabilities
        self.privileged = privileged
        self.seLinuxOptions = seLinuxOptions
        self.windowsOptions = windowsOptions
        self.runAsUser = runAsUser
        self.runAsGroup = runAsGroup
        self.runAsNonRoot = runAsNonRoot
        self.readOnlyRootFilesystem = readOnlyRootFilesystem
        self.allowPrivilegeEscalation = allowPrivilegeEscalation
        self.procMount = procMount
        self.seccompProfile = seccompProfile
        self.appArmorProfile = appArmorProfile
    }
}

/// Security settings for all containers of a pod.
public struct PodSecurityContext: Codable, Hashable, Sendable {
    public var seLinuxOptions: JSONValue?
    public var windowsOptions: JSONValue?
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool?
    public var supplementalGroups: [Int64]?
    public var supplementalGroupsPolicy: String?
    public var fsGroup: Int64?
    public var fsGroupChangePolicy: String?
    public var sysctls: [Sysctl]?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: AppArmorProfile?
    public var seLinuxChangePolicy: String?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        seLinuxOptions: JSONValue? = nil,
        windowsOptions: JSONValue? = nil,
        runAsUser: Int64? = nil,
        runAsGroup: Int64? = nil,
        runAsNonRoot: Bool? = nil,
        supplementalGroups: [Int64]? = nil,
        supplementalGroupsPolicy: String? = nil,
        fsGroup: Int64? = nil,
        fsGroupChangePolicy: String? = nil,
        sysctls: [Sysctl]? = nil,
        seccompProfile: SeccompProfile? = nil,
        appArmorProfile: AppArmorProfile? = nil,
        seLinuxChangePolicy: String? = nil
    ) {
        self.seLinuxOptions = seLinuxOptions
        self.windowsOptions = windowsOptions
        self.runAsUser = runAsUser
        self.runAsGroup = runAsGroup
        self.runAsNonRoot = runAsNonRoot
        self.supplementalGroups = supplementalGroups
        self.supplementalGroupsPolicy = supplementalGroupsPolicy
        self.fsGroup = fsGroup
        self.fsGroupChangePolicy = fsGroupChangePolicy
        self.sysctls = sysctls
        self.seccompProfile = seccompProfile
        self.appArmorProfile = appArmorProfile
        self.seLinuxChangePolicy = seLinuxChangePolicy
    }
}

/// Linux capabilities added to or dropped from the default set ("NET_ADMIN", "ALL").
public struct Capabilities: Codable, Hashable, Sendable {
    public var add: [String]?
    public var drop: [String]?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        add: [String]? = nil,
        drop: [String]? = nil
    ) {
        self.add = add
        self.drop = drop
    }
}

/// Which seccomp filter applies.
public struct SeccompProfile: Codable, Hashable, Sendable {
    /// "RuntimeDefault", "Unconfined" or "Localhost".
    public var type: String
    /// Path under the kubelet's seccomp directory, for "Localhost".
    public var localhostProfile: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        type: String,
        localhostProfile: String? = nil
    ) {
        self.type = type
        self.localhostProfile = localhostProfile
    }
}

/// Which AppArmor profile applies.
public struct AppArmorProfile: Codable, Hashable, Sendable {
    /// "RuntimeDefault", "Unconfined" or "Localhost".
    public var type: String
    public var localhostProfile: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        type: String,
        localhostProfile: String? = nil
    ) {
        self.type = type
        self.localhostProfile = localhostProfile
    }
}

/// A namespaced kernel parameter set for the pod.
public struct Sysctl: Codable, Hashable, Sendable {
    public var name: String
    public var value: String

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String,
        value: String
    ) {
        self.name = name
        self.value = value
    }
}
