import Foundation
import KubeAPI

/// Builds the Node the agent registers and the status it reports, as kubelet's node status
/// setters do (pkg/kubelet/nodestatus/setters.go). Pure: the machine and its readings come in
/// as values, so every rule is tested without a machine.
public struct NodeStatusBuilder: Sendable {
    public let nodeName: String
    public let settings: NodeSettings
    public let machine: NodeMachineInfo

    public init(nodeName: String, settings: NodeSettings, machine: NodeMachineInfo) {
        self.nodeName = nodeName
        self.settings = settings
        self.machine = machine
    }

    /// What the agent saw at one moment, besides the machine.
    public struct Observation: Sendable {
        public var sample: NodeResourceSample
        /// The pressure conditions to report (the transition period already applied).
        public var pressure: NodeEvictionThresholds.Pressure
        /// InternalIP: --node-ip, else detected; nil when the node has no address.
        public var internalIP: String?
        /// The pod network's condition (`NodeStatusStore`); nil when the agent has none.
        public var networkUnavailable: NodeCondition?
        /// The images on the node (`status.images`), largest first; nil leaves them as they are.
        public var images: [ContainerImage]?

        public init(sample: NodeResourceSample, pressure: NodeEvictionThresholds.Pressure = .init(),
                    internalIP: String?, networkUnavailable: NodeCondition? = nil, images: [ContainerImage]? = nil) {
            self.sample = sample
            self.pressure = pressure
            self.internalIP = internalIP
            self.networkUnavailable = networkUnavailable
            self.images = images
        }
    }

    // MARK: Registration

    /// Whether the node's ingress proxy serves (`enabled`, `disabled`): the server's ingress
    /// status controller leaves out the addresses of nodes labelled `disabled`.
    public static let ingressLabel = "node.swiftlet.io/ingress"

    /// The labels the agent sets on its Node and puts back when they drift (kubelet's
    /// `updateDefaultLabels`, plus k3s' instance type and control-plane role).
    public var ownedLabels: [String: String] {
        var labels = [
            "kubernetes.io/hostname": nodeName,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": machine.architecture,
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": machine.architecture,
            "node.kubernetes.io/instance-type": "swiftlet",
            "beta.kubernetes.io/instance-type": "swiftlet",
        ]
        if settings.controlPlane { labels["node-role.kubernetes.io/control-plane"] = "true" }
        if let serves = settings.servesIngress { labels[Self.ingressLabel] = serves ? "enabled" : "disabled" }
        return labels
    }

    /// The Node to create: owned labels over --node-label ones, --node-taint taints, and a
    /// first status (kubelet's `initialNode` + setters).
    public func registrationNode(_ observation: Observation, now: Time) -> Node {
        let labels = settings.labels.merging(ownedLabels) { _, owned in owned }
        var node = Node(metadata: ObjectMeta(name: nodeName, labels: labels),
                        spec: NodeSpec(taints: settings.taints.isEmpty ? nil : settings.taints))
        apply(observation, to: &node.status, now: now)
        return node
    }

    /// Puts back owned labels that differ on an existing Node; true when something changed.
    /// Other labels (the user's, --node-label given after registration) are left alone, as
    /// kubelet and k3s do.
    public func reconcileLabels(of node: inout Node) -> Bool {
        var labels = node.metadata.labels ?? [:]
        var changed = false
        for (key, value) in ownedLabels where labels[key] != value {
            labels[key] = value
            changed = true
        }
        if changed { node.metadata.labels = labels }
        return changed
    }

    // MARK: Status

    /// Rewrites the agent's parts of `status`; conditions set by others are kept, and a
    /// condition's lastTransitionTime moves only when its status flips.
    public func apply(_ observation: Observation, to status: inout NodeStatus, now: Time) {
        let capacity = capacity(nodefs: observation.sample.nodefs)
        status.capacity = capacity
        let reservation = NodeAllocatable.reservation(capacity: capacity, systemReserved: settings.systemReserved,
                                                      kubeReserved: settings.kubeReserved, evictionHard: settings.evictionHard)
        status.allocatable = NodeAllocatable.allocatable(capacity: capacity, reservation: reservation)
        status.nodeInfo = nodeInfo(keeping: status.nodeInfo)
        status.daemonEndpoints = NodeDaemonEndpoints(kubeletEndpoint: DaemonEndpoint(port: settings.kubeletPort))
        var addresses: [NodeAddress] = []
        if let ip = observation.internalIP { addresses.append(NodeAddress(type: "InternalIP", address: ip)) }
        addresses.append(NodeAddress(type: "Hostname", address: nodeName))
        status.addresses = addresses
        if let images = observation.images { status.images = images }
        status.conditions = Self.merge(status.conditions, with: conditions(observation, capacity: capacity), now: now)
    }

    /// cpu, memory, pods, ephemeral-storage and the huge page sizes (0: swiftlet gives pods
    /// none), as kubelet reports them from cadvisor.
    public func capacity(nodefs: FilesystemStats?) -> [String: Quantity] {
        var capacity: [String: Quantity] = [
            "cpu": Quantity(value: Int64(machine.cpus)),
            "memory": Quantity(value: machine.memoryBytes, format: .binarySI),
            "pods": Quantity(value: Int64(settings.maxPods)),
            "hugepages-1Gi": Quantity(value: 0, format: .binarySI),
            "hugepages-2Mi": Quantity(value: 0, format: .binarySI),
        ]
        if let nodefs { capacity["ephemeral-storage"] = Quantity(value: nodefs.capacityBytes, format: .binarySI) }
        return capacity
    }

    /// nodeInfo; the swap field, which the agent does not know, is kept.
    public func nodeInfo(keeping previous: NodeSystemInfo? = nil) -> NodeSystemInfo {
        NodeSystemInfo(machineID: machine.machineID, systemUUID: machine.systemUUID, bootID: machine.bootID,
                       kernelVersion: machine.kernelVersion, osImage: machine.osImage,
                       containerRuntimeVersion: "swiftlet://\(settings.runtimeVersion)",
                       kubeletVersion: settings.kubeletVersion, kubeProxyVersion: settings.kubeletVersion,
                       operatingSystem: "linux", architecture: machine.architecture, swap: previous?.swap)
    }

    /// The conditions the agent owns, in kubelet's order (Ready last, kubernetes#16961), with
    /// kubelet's reasons and messages; NetworkUnavailable first when the agent has one.
    func conditions(_ observation: Observation, capacity: [String: Quantity]) -> [NodeCondition] {
        var result: [NodeCondition] = []
        if let network = observation.networkUnavailable {
            result.append(NodeCondition(type: "NetworkUnavailable", status: network.status,
                                        reason: network.reason, message: network.message))
        }
        let pressure = observation.pressure
        result.append(pressure.memory
            ? NodeCondition(type: "MemoryPressure", status: "True", reason: "KubeletHasInsufficientMemory",
                            message: "kubelet has insufficient memory available")
            : NodeCondition(type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory",
                            message: "kubelet has sufficient memory available"))
        result.append(pressure.disk
            ? NodeCondition(type: "DiskPressure", status: "True", reason: "KubeletHasDiskPressure", message: "kubelet has disk pressure")
            : NodeCondition(type: "DiskPressure", status: "False", reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure"))
        result.append(pressure.pid
            ? NodeCondition(type: "PIDPressure", status: "True", reason: "KubeletHasInsufficientPID",
                            message: "kubelet has insufficient PID available")
            : NodeCondition(type: "PIDPressure", status: "False", reason: "KubeletHasSufficientPID",
                            message: "kubelet has sufficient PID available"))
        let errors = readinessErrors(observation, capacity: capacity)
        result.append(errors.isEmpty
            ? NodeCondition(type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status")
            : NodeCondition(type: "Ready", status: "False", reason: "KubeletNotReady", message: errors.joined(separator: ",")))
        return result
    }

    /// What keeps the node from Ready, in kubelet's words: the pod network not set up yet
    /// (kubelet: the CNI plugin not initialized) and missing capacity. A node run with
    /// --no-pod-network (reason NoPodNetwork) is Ready: its pods run with loopback only.
    func readinessErrors(_ observation: Observation, capacity: [String: Quantity]) -> [String] {
        var errors: [String] = []
        if let network = observation.networkUnavailable, network.status == "True", network.reason != "NoPodNetwork" {
            errors.append("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                          + "message:swiftlet: pod network not set up: \(network.message ?? network.reason ?? "unknown")")
        }
        let missing = ["cpu", "memory", "pods", "ephemeral-storage"].filter { capacity[$0] == nil }
        if !missing.isEmpty { errors.append("Missing node capacity for resources: \(missing.joined(separator: ", "))") }
        return errors
    }

    /// Merges the agent's conditions into the existing ones: heartbeat now; transition time
    /// kept while the status is the same, now when it flips or the condition is new. Existing
    /// conditions keep their place; new ones are appended in the agent's order.
    static func merge(_ existing: [NodeCondition]?, with desired: [NodeCondition], now: Time) -> [NodeCondition] {
        var result = existing ?? []
        for var condition in desired {
            condition.lastHeartbeatTime = now
            if let index = result.firstIndex(where: { $0.type == condition.type }) {
                let previous = result[index]
                condition.lastTransitionTime = previous.status == condition.status ? (previous.lastTransitionTime ?? now) : now
                result[index] = condition
            } else {
                condition.lastTransitionTime = now
                result.append(condition)
            }
        }
        return result
    }

    /// kubelet's node status Events (`recordNodeStatusEvent` from the condition setters): one
    /// per condition the agent owns that is new or whose status flipped, `Node NAME status is
    /// now: REASON`, all of type Normal as kubelet records them.
    public func statusEvents(from old: [NodeCondition]?, to new: [NodeCondition]) -> [(reason: String, message: String)] {
        let reasons: [String: (true: String, false: String)] = [
            "MemoryPressure": ("NodeHasInsufficientMemory", "NodeHasSufficientMemory"),
            "DiskPressure": ("NodeHasDiskPressure", "NodeHasNoDiskPressure"),
            "PIDPressure": ("NodeHasInsufficientPID", "NodeHasSufficientPID"),
            "Ready": ("NodeReady", "NodeNotReady"),
        ]
        return new.compactMap { condition in
            guard let pair = reasons[condition.type],
                  old?.first(where: { $0.type == condition.type })?.status != condition.status else { return nil }
            let reason = condition.status == "True" ? pair.true : pair.false
            return (reason, "Node \(nodeName) status is now: \(reason)")
        }
    }

    /// Whether two statuses differ in anything but heartbeat times: kubelet's
    /// `nodeStatusHasChanged`, which decides whether an update is sent before the report
    /// interval is up (conditions compared by type, whatever their order).
    public static func hasChanged(from old: NodeStatus, to new: NodeStatus) -> Bool {
        func normalized(_ status: NodeStatus) -> NodeStatus {
            var copy = status
            copy.conditions = status.conditions?
                .map { condition -> NodeCondition in
                    var bare = condition
                    bare.lastHeartbeatTime = nil
                    return bare
                }
                .sorted { $0.type < $1.type }
            return copy
        }
        return normalized(old) != normalized(new)
    }
}
