import Foundation
import KubeAPI
import Synchronization
import Testing
@testable import Agent

/// Registration, status sync and pod CIDR hand-off against an in-memory API server, with a
/// manual clock: no test waits for real periods.
@Suite struct NodeStatusReporterTests {
    let api = FakeNodeAPI()
    let host = FakeNodeHost()
    let clock = ManualClock()
    let cidrs = PodCIDRRecorder()

    func reporter(_ settings: NodeSettings = NodeSettings(labels: ["disktype": "ssd"],
                                                          taints: [Taint(key: "dedicated", value: "gpu", effect: "NoSchedule")],
                                                          kubeletVersion: "v1.32.0+swiftlet.1", runtimeVersion: "0.1.0"),
                  network: NodeStatusStore? = nil) -> NodeStatusReporter {
        let recorder = cidrs
        return NodeStatusReporter(nodeName: "node1", settings: settings, api: api, host: host, networkStatus: network,
                                  clock: clock, onPodCIDR: { try recorder.take($0) })
    }

    @Test func registrationCreatesTheNodeWithLabelsTaintsAndStatus() async throws {
        let reporter = reporter()
        #expect(await reporter.register())
        let node = try #require(await api.nodes["node1"])
        #expect(node.metadata.labels?["kubernetes.io/hostname"] == "node1")
        #expect(node.metadata.labels?["kubernetes.io/arch"] == "amd64")
        #expect(node.metadata.labels?["node.kubernetes.io/instance-type"] == "swiftlet")
        #expect(node.metadata.labels?["disktype"] == "ssd")
        #expect(node.metadata.labels?["node-role.kubernetes.io/control-plane"] == nil)
        #expect(node.spec.taints == [Taint(key: "dedicated", value: "gpu", effect: "NoSchedule")])
        #expect(node.status.nodeInfo?.kubeletVersion == "v1.32.0+swiftlet.1")
        #expect(node.status.nodeInfo?.containerRuntimeVersion == "swiftlet://0.1.0")
        #expect(node.status.condition("Ready")?.status == "True")
        #expect(node.status.addresses == [NodeAddress(type: "InternalIP", address: "192.0.2.10"),
                                          NodeAddress(type: "Hostname", address: "node1")])
        #expect(await api.calls == ["createNode"])
        #expect(await reporter.isRegistered)
    }

    @Test func registrationKeepsAnExistingNodeAndPutsBackOwnedLabels() async throws {
        await api.put(Node(metadata: ObjectMeta(name: "node1", uid: "old-uid",
                                                labels: ["kubernetes.io/arch": "arm64", "team": "blue"]),
                           spec: NodeSpec(podCIDR: "10.42.3.0/24", unschedulable: true)))
        let reporter = reporter()
        #expect(await reporter.register())
        let node = try #require(await api.nodes["node1"])
        #expect(node.metadata.uid == "old-uid")
        #expect(node.metadata.labels?["kubernetes.io/arch"] == "amd64")
        #expect(node.metadata.labels?["team"] == "blue")
        // --node-label and --node-taint apply at registration only, as in kubelet and k3s.
        #expect(node.metadata.labels?["disktype"] == nil)
        #expect(node.spec.taints == nil)
        #expect(node.spec.unschedulable == true)
        #expect(await api.calls == ["createNode", "getNode", "updateNode"])
        #expect(cidrs.seen == ["10.42.3.0/24"])
        // The status of an existing node is sent by the first sync, whatever it holds.
        await reporter.syncNodeStatus()
        #expect(await api.count("updateNodeStatus") == 1)
        #expect(await api.nodes["node1"]?.status.condition("Ready")?.status == "True")
    }

    @Test func anExistingNodeWithTheRightLabelsIsNotRewritten() async throws {
        let first = reporter()
        #expect(await first.register())
        let second = reporter()
        #expect(await second.register())
        #expect(await api.count("updateNode") == 0)
    }

    @Test func statusIsSentOnChangeNotWhenUnchangedAndAfterTheReportInterval() async throws {
        await api.setAssign("10.42.1.0/24")
        let reporter = reporter()
        #expect(await reporter.register())
        // Unchanged within the report interval (1 minute): nothing sent, only heartbeats differ.
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        #expect(await api.count("updateNodeStatus") == 0)
        // A change is sent at once: memory below memory.available<100Mi.
        host.change { $0.memoryAvailableBytes = 50 * 1024 * 1024 }
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        #expect(await api.count("updateNodeStatus") == 1)
        let pressure = try #require(await api.nodes["node1"]?.status.condition("MemoryPressure"))
        #expect(pressure.status == "True")
        #expect(pressure.reason == "KubeletHasInsufficientMemory")
        #expect(pressure.lastTransitionTime == Time(clock.now()))
        // Unchanged again, until a minute after the last report.
        clock.advance(seconds: 50)
        await reporter.syncNodeStatus()
        #expect(await api.count("updateNodeStatus") == 1)
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        #expect(await api.count("updateNodeStatus") == 2)
        let heartbeat = try #require(await api.nodes["node1"]?.status.condition("MemoryPressure"))
        #expect(heartbeat.lastHeartbeatTime == Time(clock.now()))
        #expect(heartbeat.lastTransitionTime == pressure.lastTransitionTime)
    }

    @Test func pressureStaysTrueForTheTransitionPeriod() async throws {
        await api.setAssign("10.42.1.0/24")
        var settings = NodeSettings()
        settings.pressureTransitionPeriod = .seconds(300)
        let reporter = reporter(settings)
        #expect(await reporter.register())
        host.change { $0.nodefs?.availableBytes = 1 * FakeNodeHost.gib } // below 10% of 100Gi
        await reporter.syncNodeStatus()
        #expect(await api.nodes["node1"]?.status.condition("DiskPressure")?.status == "True")
        host.change { $0.nodefs?.availableBytes = 60 * FakeNodeHost.gib }
        clock.advance(seconds: 290)
        await reporter.syncNodeStatus()
        #expect(await api.nodes["node1"]?.status.condition("DiskPressure")?.status == "True")
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        let condition = try #require(await api.nodes["node1"]?.status.condition("DiskPressure"))
        #expect(condition.status == "False")
        #expect(condition.reason == "KubeletHasNoDiskPressure")
    }

    /// kubelet's node Events: Starting once, then one per owned condition that is new or
    /// flips, after the status carrying it was written.
    @Test func registrationAndConditionFlipsAreRecordedAsNodeEvents() async throws {
        await api.setAssign("10.42.1.0/24")
        let recorded = Mutex<[PodEventRecord]>([])
        var settings = NodeSettings()
        settings.pressureTransitionPeriod = .seconds(0)
        let reporter = NodeStatusReporter(nodeName: "node1", settings: settings, api: api, host: host, clock: clock,
                                          events: { event in recorded.withLock { $0.append(event) } })
        #expect(await reporter.register())
        func taken() -> [String] {
            recorded.withLock { events in
                defer { events = [] }
                return events.map { "\($0.reason): \($0.message)" }
            }
        }
        #expect(taken() == [
            "Starting: Starting kubelet.",
            "NodeHasSufficientMemory: Node node1 status is now: NodeHasSufficientMemory",
            "NodeHasNoDiskPressure: Node node1 status is now: NodeHasNoDiskPressure",
            "NodeHasSufficientPID: Node node1 status is now: NodeHasSufficientPID",
            "NodeReady: Node node1 status is now: NodeReady",
        ])
        #expect(recorded.withLock { $0.isEmpty })
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        #expect(taken().isEmpty, "nothing flipped")
        host.change { $0.nodefs?.availableBytes = 1 * FakeNodeHost.gib } // below 10% of 100Gi
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        #expect(taken() == ["NodeHasDiskPressure: Node node1 status is now: NodeHasDiskPressure"])
        // Registration again (the Node was deleted) is no new start.
        await api.delete(node: "node1")
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        await reporter.syncNodeStatus()
        #expect(!taken().contains { $0.hasPrefix("Starting") })
        let nodeRecord = PodEventRecord.node("node1", type: "Normal", reason: "NodeReady", message: "")
        #expect(nodeRecord.involvedKind == "Node" && nodeRecord.namespace == "default" && nodeRecord.podUID == "node1")
    }

    @Test func aConflictReadsTheNodeAgainAndRetries() async throws {
        await api.setAssign("10.42.1.0/24")
        let reporter = reporter()
        #expect(await reporter.register())
        // Someone else changes the Node: the agent's copy is stale.
        await api.edit(node: "node1") { $0.metadata.annotations = ["note": "edited"] }
        host.change { $0.memoryAvailableBytes = 10 }
        await reporter.syncNodeStatus()
        let calls = await api.calls
        #expect(Array(calls.suffix(3)) == ["updateNodeStatus", "getNode", "updateNodeStatus"])
        #expect(await api.nodes["node1"]?.status.condition("MemoryPressure")?.status == "True")
        #expect(await api.nodes["node1"]?.metadata.annotations == ["note": "edited"])
    }

    @Test func anUnreachableServerIsRetriedFiveTimesThenAtTheNextSync() async throws {
        await api.setAssign("10.42.1.0/24")
        let reporter = reporter()
        #expect(await reporter.register())
        host.change { $0.memoryAvailableBytes = 10 }
        let down = NodeAPIError.other("dial tcp 10.0.0.1:6443: connect: connection refused")
        await api.fail("updateNodeStatus", with: down, down, down, down, down)
        await reporter.syncNodeStatus()
        #expect(await api.count("updateNodeStatus") == 5)
        #expect(await api.nodes["node1"]?.status.condition("MemoryPressure")?.status == "False")
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        #expect(await api.nodes["node1"]?.status.condition("MemoryPressure")?.status == "True")
    }

    @Test func aDeletedNodeIsRegisteredAgain() async throws {
        await api.setAssign("10.42.1.0/24")
        let reporter = reporter()
        #expect(await reporter.register())
        await api.delete(node: "node1")
        clock.advance(seconds: 60)
        await reporter.syncNodeStatus()
        #expect(await reporter.isRegistered == false)
        await reporter.syncNodeStatus()
        #expect(await api.count("createNode") == 2)
        #expect(await api.nodes["node1"]?.metadata.labels?["disktype"] == "ssd")
    }

    @Test func thePodCIDRIsHandedOverWhenTheServerAssignsIt() async throws {
        let reporter = reporter()
        #expect(await reporter.register())
        #expect(await reporter.podCIDR == nil)
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        #expect(cidrs.seen.isEmpty)
        // The server's IPAM assigns a range later; the first attempt to use it fails.
        await api.edit(node: "node1") { $0.spec.podCIDR = "10.42.7.0/24" }
        cidrs.failNext()
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        #expect(await reporter.podCIDR == nil)
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        #expect(await reporter.podCIDR == "10.42.7.0/24")
        #expect(cidrs.seen == ["10.42.7.0/24", "10.42.7.0/24"])
        // Taken once: later syncs use the cached Node and do not hand it over again.
        let gets = await api.count("getNode")
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        #expect(cidrs.seen.count == 2)
        #expect(await api.count("getNode") == gets)
    }

    @Test func theNodeIsNotReadyUntilThePodNetworkIsSetUp() async throws {
        let root = try TemporaryDirectory()
        let store = NodeStatusStore(dataDirectory: root.path)
        store.networkUnavailable(true, reason: "NoRouteCreated", message: "Node created without a route")
        let reporter = reporter(network: store)
        #expect(await reporter.register())
        let notReady = try #require(await api.nodes["node1"]?.status.condition("Ready"))
        #expect(notReady.status == "False")
        #expect(notReady.reason == "KubeletNotReady")
        #expect(notReady.message?.hasPrefix("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady") == true)
        #expect(await api.nodes["node1"]?.status.condition("NetworkUnavailable")?.reason == "NoRouteCreated")
        store.networkUnavailable(false, reason: "RouteCreated", message: "swiftlet set up bridge swiftlet0")
        clock.advance(seconds: 10)
        await reporter.syncNodeStatus()
        let ready = try #require(await api.nodes["node1"]?.status.condition("Ready"))
        #expect(ready.status == "True")
        #expect(ready.lastTransitionTime == Time(clock.now()))
        #expect(await api.nodes["node1"]?.status.condition("NetworkUnavailable")?.status == "False")
    }

    @Test func runRegistersThenReportsAndRenewsUntilCancelled() async throws {
        await api.fail("createNode", with: .other("connection refused"), .other("connection refused"))
        let reporter = reporter()
        let task = Task { await reporter.run() }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(30) // 2000 polls of 2 ms were ~4 s: tight under load
        while ContinuousClock.now < deadline {
            if await api.count("updateLease") >= 3 { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        task.cancel()
        await task.value
        #expect(await api.count("createNode") == 3)
        #expect(await api.count("createLease") == 1)
        #expect(await api.count("updateLease") >= 3)
        let lease = try #require(await api.leases["kube-node-lease/node1"])
        #expect(lease.metadata.ownerReferences?.first?.uid == "uid-node1")
        // Registration backed off 100 ms then 200 ms, doubling as kubelet does.
        #expect(Array(clock.sleeps.prefix(2)) == [.milliseconds(100), .milliseconds(200)])
        #expect(clock.sleeps.contains(.seconds(10)))
    }
}

extension FakeNodeAPI {
    func setAssign(_ cidr: String?) { assignPodCIDR = cidr }
}

/// A directory removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "swiftlet-node-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
