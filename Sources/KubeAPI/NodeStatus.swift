/// `v1.NodeStatus`: what the node's agent reports (capacity, conditions, addresses, versions).
/// Resource lists are keyed by resource name ("cpu", "memory", "pods", "ephemeral-storage",
/// "hugepages-2Mi").
public struct NodeStatus: Codable, Hashable, Sendable {
    public var capacity: [String: Quantity]?
    /// Capacity minus what is reserved for the system and the agent: what pods may request.
    public var allocatable: [String: Quantity]?
    /// Deprecated upstream and never set by kubelet.
    public var phase: String?
    public var conditions: [NodeCondition]?
    public var addresses: [NodeAddress]?
    public var daemonEndpoints: NodeDaemonEndpoints?
    public var nodeInfo: NodeSystemInfo?
    public var images: [ContainerImage]?
    public var volumesInUse: [String]?
    public var volumesAttached: [JSONValue]?
    public var config: JSONValue?
    public var runtimeHandlers: [JSONValue]?
    public var features: JSONValue?

    /// Memberwise initializer; every field defaults to unset.
    public init(capacity: [String: Quantity]? = nil, allocatable: [String: Quantity]? = nil, phase: String? = nil,
                conditions: [NodeCondition]? = nil, addresses: [NodeAddress]? = nil,
                daemonEndpoints: NodeDaemonEndpoints? = nil, nodeInfo: NodeSystemInfo? = nil,
                images: [ContainerImage]? = nil, volumesInUse: [String]? = nil, volumesAttached: [JSONValue]? = nil,
                config: JSONValue? = nil, runtimeHandlers: [JSONValue]? = nil, features: JSONValue? = nil) {
        self.capacity = capacity
        self.allocatable = allocatable
        self.phase = phase
        self.conditions = conditions
        self.addresses = addresses
        self.daemonEndpoints = daemonEndpoints
        self.nodeInfo = nodeInfo
        self.images = images
        self.volumesInUse = volumesInUse
        self.volumesAttached = volumesAttached
        self.config = config
        self.runtimeHandlers = runtimeHandlers
        self.features = features
    }

    /// The condition of a type ("Ready"), if reported.
    public func condition(_ type: String) -> NodeCondition? {
        conditions?.first { $0.type == type }
    }
}

/// `v1.NodeAddress`: one way to reach the node.
public struct NodeAddress: Codable, Hashable, Sendable {
    /// "InternalIP", "ExternalIP", "Hostname", "InternalDNS" or "ExternalDNS".
    public var type: String
    public var address: String

    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}

/// `v1.NodeDaemonEndpoints`: where the node's agent listens.
public struct NodeDaemonEndpoints: Codable, Hashable, Sendable {
    public var kubeletEndpoint: DaemonEndpoint?

    public init(kubeletEndpoint: DaemonEndpoint? = nil) {
        self.kubeletEndpoint = kubeletEndpoint
    }
}

/// `v1.DaemonEndpoint`; its one field is spelled `Port` on the wire (capital P, upstream's quirk).
public struct DaemonEndpoint: Codable, Hashable, Sendable {
    public var port: Int32

    public init(port: Int32) {
        self.port = port
    }

    private enum CodingKeys: String, CodingKey {
        case port = "Port"
    }
}

/// `v1.NodeSystemInfo`: the machine and software of the node (`kubectl describe node`'s
/// "System Info"). Upstream's fields are plain strings without `omitempty`: all are written,
/// and missing ones decode as "".
public struct NodeSystemInfo: Codable, Hashable, Sendable {
    public var machineID: String
    public var systemUUID: String
    public var bootID: String
    public var kernelVersion: String
    public var osImage: String
    /// `<runtime>://<version>` ("containerd://1.7.23"; ours: "swiftlet://0.1.0").
    public var containerRuntimeVersion: String
    public var kubeletVersion: String
    /// Deprecated upstream; kubelet still fills it.
    public var kubeProxyVersion: String
    /// Go's GOOS: "linux".
    public var operatingSystem: String
    /// Go's GOARCH: "amd64", "arm64", ...
    public var architecture: String
    /// `swap.capacity`, opaque here.
    public var swap: JSONValue?

    public init(machineID: String = "", systemUUID: String = "", bootID: String = "", kernelVersion: String = "",
                osImage: String = "", containerRuntimeVersion: String = "", kubeletVersion: String = "",
                kubeProxyVersion: String = "", operatingSystem: String = "", architecture: String = "",
                swap: JSONValue? = nil) {
        self.machineID = machineID
        self.systemUUID = systemUUID
        self.bootID = bootID
        self.kernelVersion = kernelVersion
        self.osImage = osImage
        self.containerRuntimeVersion = containerRuntimeVersion
        self.kubeletVersion = kubeletVersion
        self.kubeProxyVersion = kubeProxyVersion
        self.operatingSystem = operatingSystem
        self.architecture = architecture
        self.swap = swap
    }

    private enum CodingKeys: String, CodingKey {
        case machineID, systemUUID, bootID, kernelVersion, osImage, containerRuntimeVersion, kubeletVersion,
             kubeProxyVersion, operatingSystem, architecture, swap
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func text(_ key: CodingKeys) throws -> String { try container.decodeIfPresent(String.self, forKey: key) ?? "" }
        machineID = try text(.machineID)
        systemUUID = try text(.systemUUID)
        bootID = try text(.bootID)
        kernelVersion = try text(.kernelVersion)
        osImage = try text(.osImage)
        containerRuntimeVersion = try text(.containerRuntimeVersion)
        kubeletVersion = try text(.kubeletVersion)
        kubeProxyVersion = try text(.kubeProxyVersion)
        operatingSystem = try text(.operatingSystem)
        architecture = try text(.architecture)
        swap = try container.decodeIfPresent(JSONValue.self, forKey: .swap)
    }
}

/// `v1.ContainerImage`: an image present on the node.
public struct ContainerImage: Codable, Hashable, Sendable {
    public var names: [String]?
    public var sizeBytes: Int64?

    public init(names: [String]? = nil, sizeBytes: Int64? = nil) {
        self.names = names
        self.sizeBytes = sizeBytes
    }
}
