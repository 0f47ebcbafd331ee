/// What the agent observed about a pod.
public struct PodStatus: Codable, Hashable, Sendable {
    /// "Pending", "Running", "Succeeded", "Failed" or "Unknown".
    public var phase: String?
    public var conditions: [PodCondition]?
    public var message: String?
    public var reason: String?
    public var nominatedNodeName: String?
    public var hostIP: String?
    public var hostIPs: [HostIP]?
    public var podIP: String?
    public var podIPs: [PodIP]?
    public var startTime: Time?
    public var initContainerStatuses: [ContainerStatus]?
    public var containerStatuses: [ContainerStatus]?
    public var ephemeralContainerStatuses: [ContainerStatus]?
    /// "Guaranteed", "Burstable" or "BestEffort".
    public var qosClass: String?
    public var observedGeneration: Int64?
    public var resize: String?
    public var resourceClaimStatuses: [JSONValue]?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        phase: String? = nil,
        conditions: [PodCondition]? = nil,
        message: String? = nil,
        reason: String? = nil,
        nominatedNodeName: String? = nil,
        hostIP: String? = nil,
        hostIPs: [HostIP]? = nil,
        podIP: String? = nil,
        podIPs: [PodIP]? = nil,
        startTime: Time? = nil,
        initContainerStatuses: [ContainerStatus]? = nil,
        containerStatuses: [ContainerStatus]? = nil,
        ephemeralContainerStatuses: [ContainerStatus]? = nil,
        qosClass: String? = nil,
        observedGeneration: Int64? = nil,
        resize: String? = nil,
        resourceClaimStatuses: [JSONValue]? = nil
    ) {
        self.phase = phase
        self.conditions = conditions
        self.message = message
        self.reason = reason
        self.nominatedNodeName = nominatedNodeName
        self.hostIP = hostIP
        self.hostIPs = hostIPs
        self.podIP = podIP
        self.podIPs = podIPs
        self.startTime = startTime
        self.initContainerStatuses = initContainerStatuses
        self.containerStatuses = containerStatuses
        self.ephemeralContainerStatuses = ephemeralContainerStatuses
        self.qosClass = qosClass
        self.observedGeneration = observedGeneration
        self.resize = resize
        self.resourceClaimStatuses = resourceClaimStatuses
    }
}

/// One condition of a pod ("Ready", "PodScheduled", ...).
public struct PodCondition: Codable, Hashable, Sendable {
    public var type: String
    /// "True", "False" or "Unknown".
    public var status: String
    public var observedGeneration: Int64?
    public var lastProbeTime: Time?
    public var lastTransitionTime: Time?
    public var reason: String?
    public var message: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        type: String,
        status: String,
        observedGeneration: Int64? = nil,
        lastProbeTime: Time? = nil,
        lastTransitionTime: Time? = nil,
        reason: String? = nil,
        message: String? = nil
    ) {
        self.type = type
        self.status = status
        self.observedGeneration = observedGeneration
        self.lastProbeTime = lastProbeTime
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }
}

/// An address of the node the pod runs on.
public struct HostIP: Codable, Hashable, Sendable {
    public var ip: String

    /// Memberwise initializer; optional fields default to unset.
    public init(
        ip: String
    ) {
        self.ip = ip
    }
}

/// An address of the pod.
public struct PodIP: Codable, Hashable, Sendable {
    public var ip: String

    /// Memberwise initializer; optional fields default to unset.
    public init(
        ip: String
    ) {
        self.ip = ip
    }
}

/// What the agent observed about one container.
public struct ContainerStatus: Codable, Hashable, Sendable {
    public var name: String
    public var state: ContainerState?
    public var lastState: ContainerState?
    public var ready: Bool
    public var restartCount: Int32
    public var image: String
    public var imageID: String
    /// "swiftlet://<id>".
    public var containerID: String?
    public var started: Bool?
    public var allocatedResources: [String: Quantity]?
    public var resources: ResourceRequirements?
    public var volumeMounts: [JSONValue]?
    public var user: JSONValue?
    public var allocatedResourcesStatus: [JSONValue]?
    public var stopSignal: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String,
        state: ContainerState? = nil,
        lastState: ContainerState? = nil,
        ready: Bool = false,
        restartCount: Int32 = 0,
        image: String = "",
        imageID: String = "",
        containerID: String? = nil,
        started: Bool? = nil,
        allocatedResources: [String: Quantity]? = nil,
        resources: ResourceRequirements? = nil,
        volumeMounts: [JSONValue]? = nil,
        user: JSONValue? = nil,
        allocatedResourcesStatus: [JSONValue]? = nil,
        stopSignal: String? = nil
    ) {
        self.name = name
        self.state = state
        self.lastState = lastState
        self.ready = ready
        self.restartCount = restartCount
        self.image = image
        self.imageID = imageID
        self.containerID = containerID
        self.started = started
        self.allocatedResources = allocatedResources
        self.resources = resources
        self.volumeMounts = volumeMounts
        self.user = user
        self.allocatedResourcesStatus = allocatedResourcesStatus
        self.stopSignal = stopSignal
    }
}

/// The state of a container: at most one of its fields is set.
public struct ContainerState: Codable, Hashable, Sendable {
    public var waiting: ContainerStateWaiting?
    public var running: ContainerStateRunning?
    public var terminated: ContainerStateTerminated?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        waiting: ContainerStateWaiting? = nil,
        running: ContainerStateRunning? = nil,
        terminated: ContainerStateTerminated? = nil
    ) {
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
    }
}

/// Not running yet ("ContainerCreating", "CrashLoopBackOff", "ImagePullBackOff").
public struct ContainerStateWaiting: Codable, Hashable, Sendable {
    public var reason: String?
    public var message: String?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        reason: String? = nil,
        message: String? = nil
    ) {
        self.reason = reason
        self.message = message
    }
}

/// Running since `startedAt`.
public struct ContainerStateRunning: Codable, Hashable, Sendable {
    public var startedAt: Time?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        startedAt: Time? = nil
    ) {
        self.startedAt = startedAt
    }
}

/// Exited, with its exit code or the signal that killed it.
public struct ContainerStateTerminated: Codable, Hashable, Sendable {
    public var exitCode: Int32
    public var signal: Int32?
    /// "Completed", "Error", "OOMKilled", ...
    public var reason: String?
    public var message: String?
    public var startedAt: Time?
    public var finishedAt: Time?
    public var containerID: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        exitCode: Int32,
        signal: Int32? = nil,
        reason: String? = nil,
        message: String? = nil,
        startedAt: Time? = nil,
        finishedAt: Time? = nil,
        containerID: String? = nil
    ) {
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.message = message
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.containerID = containerID
    }
}

extension PodStatus {
    /// The statuses of every container: app, init, then ephemeral ones (where kubelet's
    /// validateContainerLogStatus looks a container up by name).
    public var allContainerStatuses: [ContainerStatus] {
        (containerStatuses ?? []) + (initContainerStatuses ?? []) + (ephemeralContainerStatuses ?? [])
    }
}
