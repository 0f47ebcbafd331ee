/// The desired state of a pod: its containers, volumes and scheduling and security settings.
public struct PodSpec: Codable, Hashable, Sendable {
    public var volumes: [Volume]?
    public var initContainers: [Container]?
    public var containers: [Container]
    /// Debug containers added through pods/ephemeralcontainers (`kubectl debug`).
    public var ephemeralContainers: [EphemeralContainer]?
    /// "Always" (default), "OnFailure" or "Never".
    public var restartPolicy: String?
    public var terminationGracePeriodSeconds: Int64?
    public var activeDeadlineSeconds: Int64?
    /// "ClusterFirst" (default), "ClusterFirstWithHostNet", "Default" or "None".
    public var dnsPolicy: String?
    public var nodeSelector: [String: String]?
    public var serviceAccountName: String?
    /// Deprecated alias of `serviceAccountName`.
    public var serviceAccount: String?
    public var automountServiceAccountToken: Bool?
    public var nodeName: String?
    public var hostNetwork: Bool?
    public var hostPID: Bool?
    public var hostIPC: Bool?
    public var shareProcessNamespace: Bool?
    public var securityContext: PodSecurityContext?
    public var imagePullSecrets: [LocalObjectReference]?
    public var hostname: String?
    public var subdomain: String?
    /// Node and pod (anti-)affinity, kept opaque.
    public var affinity: JSONValue?
    public var schedulerName: String?
    public var tolerations: [Toleration]?
    public var hostAliases: [HostAlias]?
    public var priorityClassName: String?
    public var priority: Int32?
    public var dnsConfig: PodDNSConfig?
    public var readinessGates: [PodReadinessGate]?
    public var runtimeClassName: String?
    public var enableServiceLinks: Bool?
    public var preemptionPolicy: String?
    public var overhead: [String: Quantity]?
    public var topologySpreadConstraints: [JSONValue]?
    public var setHostnameAsFQDN: Bool?
    public var os: PodOS?
    public var hostUsers: Bool?
    public var schedulingGates: [JSONValue]?
    public var resourceClaims: [JSONValue]?
    /// Pod-level resources (PodLevelResources feature).
    public var resources: ResourceRequirements?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        volumes: [Volume]? = nil,
        initContainers: [Container]? = nil,
        containers: [Container] = [],
        ephemeralContainers: [EphemeralContainer]? = nil,
        restartPolicy: String? = nil,
        terminationGracePeriodSeconds: Int64? = nil,
        activeDeadlineSeconds: Int64? = nil,
        dnsPolicy: String? = nil,
        nodeSelector: [String: String]? = nil,
        serviceAccountName: String? = nil,
        serviceAccount: String? = nil,
        automountServiceAccountToken: Bool? = nil,
        nodeName: String? = nil,
        hostNetwork: Bool? = nil,
        hostPID: Bool? = nil,
        hostIPC: Bool? = nil,
        shareProcessNamespace: Bool? = nil,
        securityContext: PodSecurityContext? = nil,
        imagePullSecrets: [LocalObjectReference]? = nil,
        hostname: String? = nil,
        subdomain: String? = nil,
        affinity: JSONValue? = nil,
        schedulerName: String? = nil,
        tolerations: [Toleration]? = nil,
        hostAliases: [HostAlias]? = nil,
        priorityClassName: String? = nil,
        priority: Int32? = nil,
        dnsConfig: PodDNSConfig? = nil,
        readinessGates: [PodReadinessGate]? = nil,
        runtimeClassName: String? = nil,
        enableServiceLinks: Bool? = nil,
        preemptionPolicy: String? = nil,
        overhead: [String: Quantity]? = nil,
        topologySpreadConstraints: [JSONValue]? = nil,
        setHostnameAsFQDN: Bool? = nil,
        os: PodOS? = nil,
        hostUsers: Bool? = nil,
        schedulingGates: [JSONValue]? = nil,
        resourceClaims: [JSONValue]? = nil,
        resources: ResourceRequirements? = nil
    ) {
        self.volumes = volumes
        self.initContainers = initContainers
        self.containers = containers
        self.ephemeralContainers = ephemeralContainers
        self.restartPolicy = restartPolicy
        self.terminationGracePeriodSeconds = terminationGracePeriodSeconds
        self.activeDeadlineSeconds = activeDeadlineSeconds
        self.dnsPolicy = dnsPolicy
        self.nodeSelector = nodeSelector
        self.serviceAccountName = serviceAccountName
        self.serviceAccount = serviceAccount
        self.automountServiceAccountToken = automountServiceAccountToken
        self.nodeName = nodeName
        self.hostNetwork = hostNetwork
        self.hostPID = hostPID
        self.hostIPC = hostIPC
        self.shareProcessNamespace = shareProcessNamespace
        self.securityContext = securityContext
        self.imagePullSecrets = imagePullSecrets
        self.hostname = hostname
        self.subdomain = subdomain
        self.affinity = affinity
        self.schedulerName = schedulerName
        self.tolerations = tolerations
        self.hostAliases = hostAliases
        self.priorityClassName = priorityClassName
        self.priority = priority
        self.dnsConfig = dnsConfig
        self.readinessGates = readinessGates
        self.runtimeClassName = runtimeClassName
        self.enableServiceLinks = enableServiceLinks
        self.preemptionPolicy = preemptionPolicy
        self.overhead = overhead
        self.topologySpreadConstraints = topologySpreadConstraints
        self.setHostnameAsFQDN = setHostnameAsFQDN
        self.os = os
        self.hostUsers = hostUsers
        self.schedulingGates = schedulingGates
        self.resourceClaims = resourceClaims
        self.resources = resources
    }
}

/// Lets a pod be scheduled onto (or stay on) a node with a matching taint.
public struct Toleration: Codable, Hashable, Sendable {
    public var key: String?
    /// "Equal" (default) or "Exists".
    public var `operator`: String?
    public var value: String?
    /// "NoSchedule", "PreferNoSchedule" or "NoExecute"; empty matches all.
    public var effect: String?
    public var tolerationSeconds: Int64?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        key: String? = nil,
        `operator`: String? = nil,
        value: String? = nil,
        effect: String? = nil,
        tolerationSeconds: Int64? = nil
    ) {
        self.key = key
        self.`operator` = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }
}

/// An extra line for the pod's /etc/hosts.
public struct HostAlias: Codable, Hashable, Sendable {
    public var ip: String
    public var hostnames: [String]?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        ip: String,
        hostnames: [String]? = nil
    ) {
        self.ip = ip
        self.hostnames = hostnames
    }
}

/// Extra resolv.conf settings merged with those from `dnsPolicy`.
public struct PodDNSConfig: Codable, Hashable, Sendable {
    public var nameservers: [String]?
    public var searches: [String]?
    public var options: [PodDNSConfigOption]?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        nameservers: [String]? = nil,
        searches: [String]? = nil,
        options: [PodDNSConfigOption]? = nil
    ) {
        self.nameservers = nameservers
        self.searches = searches
        self.options = options
    }
}

/// One resolv.conf option ("ndots", "5").
public struct PodDNSConfigOption: Codable, Hashable, Sendable {
    public var name: String?
    public var value: String?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        name: String? = nil,
        value: String? = nil
    ) {
        self.name = name
        self.value = value
    }
}

/// A pod condition that must be True for the pod to count as ready.
public struct PodReadinessGate: Codable, Hashable, Sendable {
    public var conditionType: String

    /// Memberwise initializer; optional fields default to unset.
    public init(
        conditionType: String
    ) {
        self.conditionType = conditionType
    }
}

/// The operating system the pod's containers need ("linux" or "windows").
public struct PodOS: Codable, Hashable, Sendable {
    public var name: String

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String
    ) {
        self.name = name
    }
}

/// Names an object in the same namespace (image pull secrets).
public struct LocalObjectReference: Codable, Hashable, Sendable {
    public var name: String?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        name: String? = nil
    ) {
        self.name = name
    }
}

extension PodSpec {
    /// The names of every container: app, init, then ephemeral ones (which a container name in
    /// a log, exec or attach request may name).
    public var allContainerNames: [String] {
        containers.map(\.name) + (initContainers ?? []).map(\.name) + (ephemeralContainers ?? []).map(\.name)
    }
}
