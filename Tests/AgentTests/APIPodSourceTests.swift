import Agent
import Foundation
import KubeAPI
import Runtime
import Synchronization
import Testing

/// Polls every 20 ms until `condition` holds; false on timeout.
func eventually(_ timeout: Double = 60, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// The list/watch of the node's pods against the in-memory API (no root needed).
@Suite("API pod source")
struct APIPodSourceTests {
    @Test func listsThenWatchesTheNodesPods() async throws {
        let api = FakePodAPI()
        let first = api.add(try boundPod("first"))
        api.add(try boundPod("elsewhere", node: "othernode"))
        let changes = Mutex(0)
        let source = APIPodSource(api: api, nodeName: "testnode", onChange: { changes.withLock { $0 += 1 } })
        #expect(!source.snapshot().synced)
        let task = Task { await source.run() }
        defer { task.cancel() }
        #expect(await eventually { source.snapshot().synced && api.activeWatches == 1 })
        var snapshot = source.snapshot()
        #expect(Array(snapshot.pods.keys) == [try #require(first.metadata.uid)])
        // Marked as kubelet marks pods from the API server.
        #expect(snapshot.pods.values.first?.isAPIPod == true)
        let second = api.add(try boundPod("second"))
        #expect(await eventually { source.snapshot().pods[second.metadata.uid ?? ""] != nil })
        api.requestDelete(name: "second", grace: 5)
        #expect(await eventually { source.snapshot().pods[second.metadata.uid ?? ""]?.metadata.deletionTimestamp != nil })
        #expect(source.snapshot().pods[second.metadata.uid ?? ""]?.metadata.deletionGracePeriodSeconds == 5)
        api.forceDelete(name: "first")
        #expect(await eventually { source.snapshot().pods[first.metadata.uid ?? ""] == nil })
        snapshot = source.snapshot()
        #expect(snapshot.pods.count == 1)
        #expect(api.listCount == 1)
        #expect(changes.withLock { $0 } >= 4)
    }

    @Test func goneWatchRelistsAndDropsPodsDeletedMeanwhile() async throws {
        let api = FakePodAPI()
        let kept = api.add(try boundPod("kept"))
        let lost = api.add(try boundPod("lost"))
        let source = APIPodSource(api: api, nodeName: "testnode")
        let task = Task { await source.run() }
        defer { task.cancel() }
        #expect(await eventually { api.activeWatches == 1 && source.snapshot().pods.count == 2 })
        // The watch expires and, before the agent lists again, a pod is deleted: its DELETED event
        // is lost with the compacted history, only the new list shows it gone.
        api.expireWatches()
        api.forceDelete(name: "lost")
        #expect(await eventually { api.listCount == 2 && api.activeWatches == 1 })
        let snapshot = source.snapshot()
        #expect(snapshot.pods[kept.metadata.uid ?? ""] != nil)
        #expect(snapshot.pods[lost.metadata.uid ?? ""] == nil)
        #expect(source.listCount == 2)
        // And the new watch works.
        let late = api.add(try boundPod("late"))
        #expect(await eventually { source.snapshot().pods[late.metadata.uid ?? ""] != nil })
    }

    @Test func aBrokenWatchResumesFromTheLastVersionWithoutAList() async throws {
        let api = FakePodAPI()
        let kept = api.add(try boundPod("kept"))
        let source = APIPodSource(api: api, nodeName: "testnode", backoffInitial: .milliseconds(20))
        let task = Task { await source.run() }
        defer { task.cancel() }
        #expect(await eventually { api.activeWatches == 1 && source.snapshot().pods.count == 1 })
        // The connection breaks (the server went away); meanwhile a pod comes and one goes.
        api.breakWatches()
        let late = api.add(try boundPod("late"))
        api.forceDelete(name: "kept")
        #expect(await eventually {
            let pods = source.snapshot().pods
            return api.activeWatches == 1 && pods[late.metadata.uid ?? ""] != nil && pods[kept.metadata.uid ?? ""] == nil
        })
        #expect(api.listCount == 1, "resumed from the last version seen, not listed again")
        #expect(api.watchCount == 2)
    }

    @Test func mirrorPodsAreKeptApartFromPodsToRun() async throws {
        let api = FakePodAPI()
        var mirror = try boundPod("static-testnode")
        mirror.metadata.annotations = [PodSourceAnnotation.mirror: "abc", PodSourceAnnotation.source: "file"]
        api.add(mirror)
        let source = APIPodSource(api: api, nodeName: "testnode")
        let task = Task { await source.run() }
        defer { task.cancel() }
        #expect(await eventually { source.snapshot().synced })
        let snapshot = source.snapshot()
        #expect(snapshot.pods.isEmpty)
        #expect(snapshot.mirrors["default/static-testnode"]?.metadata.annotations?[PodSourceAnnotation.source] == "file")
    }

    @Test func failingListIsRetriedWithBackoff() async throws {
        let api = FailingListAPI(failures: 3)
        let source = APIPodSource(api: api, nodeName: "testnode", backoffInitial: .milliseconds(50), backoffMax: .milliseconds(200))
        let task = Task { await source.run() }
        defer { task.cancel() }
        let started = Date()
        #expect(await eventually { source.snapshot().synced })
        // 50 + 100 + 200 ms of back-off before the fourth list succeeds.
        #expect(Date().timeIntervalSince(started) >= 0.3)
        #expect(api.attempts.withLock { $0 } == 4)
    }
}

/// Fails its first lists with a server error, then behaves like the fake.
final class FailingListAPI: PodAPI {
    let inner = FakePodAPI()
    let attempts = Mutex(0)
    let failures: Int
    init(failures: Int) { self.failures = failures }

    func listPods(nodeName: String) async throws -> (pods: [Pod], resourceVersion: String) {
        let attempt = attempts.withLock { $0 += 1; return $0 }
        if attempt <= failures { throw PodAPIError.other("connection refused") }
        return try await inner.listPods(nodeName: nodeName)
    }
    func watchPods(nodeName: String, resourceVersion: String) -> AsyncThrowingStream<PodEvent, any Error> {
        inner.watchPods(nodeName: nodeName, resourceVersion: resourceVersion)
    }
    func getPod(namespace: String, name: String) async throws -> Pod { try await inner.getPod(namespace: namespace, name: name) }
    func updatePodStatus(namespace: String, name: String, uid: String, status: PodStatus) async throws {
        try await inner.updatePodStatus(namespace: namespace, name: name, uid: uid, status: status)
    }
    func deletePod(namespace: String, name: String, uid: String) async throws {
        try await inner.deletePod(namespace: namespace, name: name, uid: uid)
    }
    func createPod(_ pod: Pod) async throws -> Pod { try await inner.createPod(pod) }
    func getPullSecret(namespace: String, name: String) async throws -> PullSecret {
        try await inner.getPullSecret(namespace: namespace, name: name)
    }
    func getConfigMap(namespace: String, name: String) async throws -> ConfigObject {
        try await inner.getConfigMap(namespace: namespace, name: name)
    }
    func getSecret(namespace: String, name: String) async throws -> ConfigObject {
        try await inner.getSecret(namespace: namespace, name: name)
    }
    func getPersistentVolumeClaim(namespace: String, name: String) async throws -> JSONValue {
        try await inner.getPersistentVolumeClaim(namespace: namespace, name: name)
    }
    func getPersistentVolume(name: String) async throws -> JSONValue {
        try await inner.getPersistentVolume(name: name)
    }
    func requestServiceAccountToken(namespace: String, serviceAccount: String, audiences: [String], expirationSeconds: Int64,
                                    podName: String, podUID: String) async throws -> (token: String, expiration: Date) {
        try await inner.requestServiceAccountToken(namespace: namespace, serviceAccount: serviceAccount, audiences: audiences,
                                                   expirationSeconds: expirationSeconds, podName: podName, podUID: podUID)
    }
    func recordEvent(_ event: PodEventRecord) async throws { try await inner.recordEvent(event) }
}
