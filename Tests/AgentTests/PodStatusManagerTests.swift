import Agent
import Foundation
import KubeAPI
import Testing

/// The status manager against the in-memory API (no root needed).
@Suite("Pod status manager")
struct PodStatusManagerTests {
    /// A pod as the agent runs it from the API (marked by the API pod source).
    func apiPod(_ api: FakePodAPI, _ name: String) throws -> Pod {
        var pod = api.add(try boundPod(name))
        pod.metadata.annotations = [PodSourceAnnotation.source: "api"]
        return pod
    }

    func status(_ phase: String, _ message: String) -> PodStatus {
        PodStatus(phase: phase, message: message)
    }

    @Test func sendsTheLatestStatusWithTheNodesAddresses() async throws {
        let api = FakePodAPI()
        let pod = try apiPod(api, "web")
        let manager = PodStatusManager(api: api, nodeIPs: ["192.0.2.10", "2001:db8::10"], coalesce: .milliseconds(100))
        let task = Task { await manager.run() }
        defer { task.cancel() }
        // A burst of changes within the coalescing window becomes one update with the last status.
        for i in 1...5 { manager.setStatus(status("Pending", "v\(i)"), for: pod) }
        #expect(await eventually { api.pod("web")?.status?.message == "v5" })
        try await Task.sleep(for: .milliseconds(300))
        #expect(api.statusUpdates.count == 1, "\(api.statusUpdates.map(\.status.message))")
        let sent = try #require(api.pod("web")?.status)
        #expect(sent.hostIP == "192.0.2.10")
        #expect(sent.hostIPs == [HostIP(ip: "192.0.2.10"), HostIP(ip: "2001:db8::10")])
        // An unchanged status is not sent again.
        manager.setStatus(status("Pending", "v5"), for: pod)
        try await Task.sleep(for: .milliseconds(300))
        #expect(api.statusUpdates.count == 1)
    }

    @Test func neverSendsAnOlderVersionAfterANewerOne() async throws {
        let api = FakePodAPI()
        let pod = try apiPod(api, "web")
        api.delayStatusUpdates(.milliseconds(80))
        let manager = PodStatusManager(api: api, coalesce: .zero)
        let task = Task { await manager.run() }
        defer { task.cancel() }
        for i in 1...20 {
            manager.setStatus(status("Running", "v\(i)"), for: pod)
            try await Task.sleep(for: .milliseconds(15))
        }
        #expect(await eventually { api.pod("web")?.status?.message == "v20" })
        let versions = api.statusUpdates.compactMap { $0.status.message.flatMap { Int($0.dropFirst()) } }
        #expect(versions == versions.sorted() && Set(versions).count == versions.count, "\(versions)")
        // Changes made while a request was out were merged, not queued one by one.
        #expect(versions.count < 20, "\(versions)")
    }

    @Test func failedUpdatesAreRetriedWithBackoff() async throws {
        let api = FakePodAPI()
        let pod = try apiPod(api, "web")
        api.failNextStatusUpdates(2)
        let manager = PodStatusManager(api: api, coalesce: .zero, retryInitial: .milliseconds(100), retryMax: .seconds(1))
        let task = Task { await manager.run() }
        defer { task.cancel() }
        let started = Date()
        manager.setStatus(status("Running", "up"), for: pod)
        #expect(await eventually { api.pod("web")?.status?.message == "up" })
        // Two failures: 100 ms then 200 ms of back-off.
        #expect(Date().timeIntervalSince(started) >= 0.3)
        #expect(manager.sentCount == 1)
    }

    @Test func terminatedPodGetsItsFinalStatusThenIsDeletedWithItsUID() async throws {
        let api = FakePodAPI()
        let pod = try apiPod(api, "web")
        let manager = PodStatusManager(api: api, coalesce: .zero)
        let task = Task { await manager.run() }
        defer { task.cancel() }
        manager.setStatus(status("Running", "up"), for: pod)
        #expect(await eventually { api.pod("web")?.status?.phase == "Running" })
        api.requestDelete(name: "web", grace: 30)
        manager.deleteWhenTerminated(uid: pod.metadata.uid ?? "")
        manager.podTerminated(pod, finalStatus: status("Failed", "final"))
        #expect(await eventually { api.pod("web") == nil })
        #expect(api.statusUpdates.last?.status.message == "final")
        #expect(api.deletes.map(\.uid) == [pod.metadata.uid ?? ""])
    }

    @Test func terminatedPodNotMarkedForDeletionStays() async throws {
        let api = FakePodAPI()
        let pod = try apiPod(api, "web")
        let manager = PodStatusManager(api: api, coalesce: .zero)
        let task = Task { await manager.run() }
        defer { task.cancel() }
        manager.podTerminated(pod, finalStatus: status("Succeeded", "done"))
        #expect(await eventually { api.pod("web")?.status?.phase == "Succeeded" })
        try await Task.sleep(for: .milliseconds(200))
        #expect(api.deletes.isEmpty)
    }

    @Test func aRecreatedPodOfTheSameNameIsNeverWritten() async throws {
        let api = FakePodAPI()
        let old = try apiPod(api, "web")
        api.forceDelete(name: "web")
        let new = api.add(try boundPod("web"))
        let manager = PodStatusManager(api: api, coalesce: .zero)
        let task = Task { await manager.run() }
        defer { task.cancel() }
        manager.setStatus(status("Running", "old pod"), for: old)
        try await Task.sleep(for: .milliseconds(300))
        #expect(api.statusUpdates.isEmpty)
        #expect(api.pod("web")?.metadata.uid == new.metadata.uid)
        #expect(api.pod("web")?.status == nil)
    }

    @Test func staticPodStatusGoesToItsMirrorPod() async throws {
        let api = FakePodAPI()
        var staticPod = try boundPod("etcd-testnode")
        staticPod.metadata.uid = "static-hash"
        staticPod.metadata.annotations = [PodSourceAnnotation.source: "file", PodSourceAnnotation.hash: "static-hash"]
        let manager = PodStatusManager(api: api, coalesce: .zero, retryInitial: .milliseconds(50))
        let task = Task { await manager.run() }
        defer { task.cancel() }
        manager.setStatus(status("Running", "static"), for: staticPod)
        // No mirror yet: nothing to write to, retried.
        try await Task.sleep(for: .milliseconds(200))
        #expect(api.statusUpdates.isEmpty)
        let mirror = try await api.createPod(MirrorPodsTests.mirror(of: staticPod))
        manager.resend(uid: "static-hash")
        #expect(await eventually { api.pod("etcd-testnode")?.status?.message == "static" })
        #expect(api.statusUpdates.first?.uid == mirror.metadata.uid)
    }
}
