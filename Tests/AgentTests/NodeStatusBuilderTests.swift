import Foundation
import KubeAPI
import Testing
@testable import Agent

/// The Node and status kubelet's setters would produce for a made-up machine.
@Suite struct NodeStatusBuilderTests {
    let host = FakeNodeHost()

    func builder(_ settings: NodeSettings = NodeSettings(kubeletVersion: "v1.32.0+swiftlet.1", runtimeVersion: "0.1.0")) -> NodeStatusBuilder {
        NodeStatusBuilder(nodeName: "node1", settings: settings, machine: host.machine)
    }

    func observation(network: NodeCondition? = nil, pressure: NodeEvictionThresholds.Pressure = .init()) -> NodeStatusBuilder.Observation {
        .init(sample: host.sample(), pressure: pressure, internalIP: "192.0.2.10", networkUnavailable: network)
    }

    let t0 = Time(Date(timeIntervalSince1970: 1_795_341_600))
    let t1 = Time(Date(timeIntervalSince1970: 1_795_341_610))

    @Test func aFreshStatusHasKubeletsConditionsInKubeletsOrder() throws {
        var status = NodeStatus()
        builder().apply(observation(), to: &status, now: t0)
        let conditions = try #require(status.conditions)
        #expect(conditions.map(\.type) == ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"])
        #expect(conditions.map(\.status) == ["False", "False", "False", "True"])
        #expect(conditions.map { $0.reason ?? "" } == ["KubeletHasSufficientMemory", "KubeletHasNoDiskPressure",
                                                        "KubeletHasSufficientPID", "KubeletReady"])
        #expect(status.condition("Ready")?.message == "kubelet is posting ready status")
        #expect(status.condition("MemoryPressure")?.message == "kubelet has sufficient memory available")
        #expect(conditions.allSatisfy { $0.lastHeartbeatTime == t0 && $0.lastTransitionTime == t0 })
    }

    @Test func capacityAndNodeInfoAsKubeletReportsThem() throws {
        var status = NodeStatus()
        builder().apply(observation(), to: &status, now: t0)
        let capacity = try #require(status.capacity).mapValues(\.description)
        #expect(capacity == ["cpu": "2", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi",
                             "hugepages-1Gi": "0", "hugepages-2Mi": "0"])
        #expect(status.allocatable?["memory"]?.description == "8092Mi")
        let info = try #require(status.nodeInfo)
        #expect(info == NodeSystemInfo(machineID: "0123456789abcdef", systemUUID: "UUID-1", bootID: "boot-1",
                                       kernelVersion: "6.1.0-27-amd64", osImage: "Debian GNU/Linux 12 (bookworm)",
                                       containerRuntimeVersion: "swiftlet://0.1.0", kubeletVersion: "v1.32.0+swiftlet.1",
                                       kubeProxyVersion: "v1.32.0+swiftlet.1", operatingSystem: "linux", architecture: "amd64"))
        #expect(status.daemonEndpoints?.kubeletEndpoint?.port == 10250)
        #expect(status.addresses == [NodeAddress(type: "InternalIP", address: "192.0.2.10"), NodeAddress(type: "Hostname", address: "node1")])
    }

    @Test func transitionTimeMovesOnlyWhenTheStatusFlips() throws {
        let builder = builder()
        var status = NodeStatus()
        builder.apply(observation(), to: &status, now: t0)
        builder.apply(observation(), to: &status, now: t1)
        #expect(status.condition("MemoryPressure")?.lastHeartbeatTime == t1)
        #expect(status.condition("MemoryPressure")?.lastTransitionTime == t0)
        let t2 = Time(Date(timeIntervalSince1970: 1_795_341_620))
        builder.apply(observation(pressure: .init(memory: true)), to: &status, now: t2)
        let memory = try #require(status.condition("MemoryPressure"))
        #expect(memory.status == "True")
        #expect(memory.reason == "KubeletHasInsufficientMemory")
        #expect(memory.message == "kubelet has insufficient memory available")
        #expect(memory.lastTransitionTime == t2)
        #expect(status.condition("Ready")?.lastTransitionTime == t0)
    }

    @Test func conditionsOfOthersAreKeptInPlace() throws {
        var status = NodeStatus(conditions: [
            NodeCondition(type: "Ready", status: "Unknown", lastTransitionTime: t0, reason: "NodeStatusUnknown",
                          message: "Kubelet stopped posting node status."),
            NodeCondition(type: "ExampleProblem", status: "True", reason: "Detector"),
        ])
        builder().apply(observation(), to: &status, now: t1)
        let conditions = try #require(status.conditions)
        #expect(conditions.map(\.type) == ["Ready", "ExampleProblem", "MemoryPressure", "DiskPressure", "PIDPressure"])
        #expect(status.condition("Ready")?.status == "True")
        #expect(status.condition("Ready")?.lastTransitionTime == t1)
        #expect(status.condition("ExampleProblem")?.reason == "Detector")
    }

    @Test func thePodNetworkDecidesReadiness() throws {
        let builder = builder()
        var status = NodeStatus()
        let waiting = NodeCondition(type: "NetworkUnavailable", status: "True", reason: "NoRouteCreated",
                                    message: "Node created without a route")
        builder.apply(observation(network: waiting), to: &status, now: t0)
        #expect(status.conditions?.first?.type == "NetworkUnavailable")
        let ready = try #require(status.condition("Ready"))
        #expect(ready.status == "False")
        #expect(ready.reason == "KubeletNotReady")
        #expect(ready.message == "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                + "message:swiftlet: pod network not set up: Node created without a route")
        // --no-pod-network: pods run with loopback only, and the node is Ready.
        let disabled = NodeCondition(type: "NetworkUnavailable", status: "True", reason: "NoPodNetwork", message: "disabled")
        builder.apply(observation(network: disabled), to: &status, now: t1)
        #expect(status.condition("Ready")?.status == "True")
        #expect(status.condition("Ready")?.lastTransitionTime == t1)
    }

    @Test func missingDiskCapacityKeepsTheNodeNotReady() {
        var sample = host.sample()
        sample.nodefs = nil
        var status = NodeStatus()
        builder().apply(.init(sample: sample, internalIP: nil), to: &status, now: t0)
        #expect(status.condition("Ready")?.message == "Missing node capacity for resources: ephemeral-storage")
        #expect(status.addresses == [NodeAddress(type: "Hostname", address: "node1")])
    }

    @Test func changesAreDetectedIgnoringHeartbeats() {
        let builder = builder()
        var old = NodeStatus()
        builder.apply(observation(), to: &old, now: t0)
        var same = old
        builder.apply(observation(), to: &same, now: t1)
        #expect(same != old)
        #expect(!NodeStatusBuilder.hasChanged(from: old, to: same))
        var reordered = same
        reordered.conditions?.reverse()
        #expect(!NodeStatusBuilder.hasChanged(from: old, to: reordered))
        var changed = same
        builder.apply(observation(pressure: .init(pid: true)), to: &changed, now: t1)
        #expect(NodeStatusBuilder.hasChanged(from: old, to: changed))
    }

    @Test func registrationLabelsAndTheControlPlaneRole() {
        var settings = NodeSettings(labels: ["kubernetes.io/arch": "s390x", "zone": "a"], controlPlane: true)
        settings.taints = [Taint(key: "k", effect: "NoSchedule")]
        let node = builder(settings).registrationNode(observation(), now: t0)
        #expect(node.metadata.name == "node1")
        #expect(node.metadata.labels == [
            "kubernetes.io/hostname": "node1", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
            "node.kubernetes.io/instance-type": "swiftlet", "beta.kubernetes.io/instance-type": "swiftlet",
            "node-role.kubernetes.io/control-plane": "true", "zone": "a",
        ])
        #expect(node.spec.taints == [Taint(key: "k", effect: "NoSchedule")])
        #expect(node.status.condition("Ready")?.status == "True")
    }

    @Test func reconcilingLabelsTouchesOnlyOwnedOnes() {
        let builder = builder()
        var node = Node(metadata: ObjectMeta(name: "node1", labels: ["kubernetes.io/os": "windows", "mine": "yes"]))
        #expect(builder.reconcileLabels(of: &node))
        #expect(node.metadata.labels?["kubernetes.io/os"] == "linux")
        #expect(node.metadata.labels?["mine"] == "yes")
        #expect(!builder.reconcileLabels(of: &node))
    }
}
