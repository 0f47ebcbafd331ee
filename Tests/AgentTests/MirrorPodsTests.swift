import Agent
import Foundation
import KubeAPI
import Synchronization
import Testing

/// Mirror pods against the in-memory API (no root needed). The agent's part (feeding `update`
/// from its static pods and the API's mirror pods) is played by the test.
@Suite("Mirror pods")
struct MirrorPodsTests {
    /// A mirror pod as kubelet makes it, for tests that need one without MirrorPods.
    static func mirror(of pod: Pod) -> Pod {
        var mirror = Pod(metadata: ObjectMeta(name: pod.metadata.name, namespace: pod.metadata.namespace), spec: pod.spec)
        var annotations = pod.metadata.annotations ?? [:]
        annotations[PodSourceAnnotation.mirror] = pod.metadata.annotations?[PodSourceAnnotation.hash] ?? pod.metadata.uid
        mirror.metadata.annotations = annotations
        return mirror
    }

    func staticPod(_ name: String, hash: String) throws -> Pod {
        var pod = try boundPod(name + "-testnode")
        pod.metadata.uid = hash
        pod.metadata.labels = ["app": name]
        pod.metadata.annotations = [PodSourceAnnotation.source: "file", PodSourceAnnotation.hash: hash]
        return pod
    }

    @Test func createsTheMirrorAsKubeletDoes() async throws {
        let f = MirrorPodsFixture()
        let task = Task { await f.mirrors.run() }
        defer { task.cancel() }
        let pod = try staticPod("etcd", hash: "h1")
        f.sync([.init(pod: pod, terminating: false)])
        #expect(await eventually { f.api.pod("etcd-testnode") != nil })
        let mirror = try #require(f.api.pod("etcd-testnode"))
        #expect(mirror.metadata.annotations?[PodSourceAnnotation.mirror] == "h1")
        #expect(mirror.metadata.annotations?[PodSourceAnnotation.hash] == "h1")
        #expect(mirror.metadata.annotations?[PodSourceAnnotation.source] == "file")
        #expect(mirror.metadata.labels == ["app": "etcd"])
        #expect(mirror.metadata.uid != "h1")
        #expect(mirror.spec.nodeName == "testnode")
        #expect(mirror.metadata.ownerReferences == [OwnerReference(apiVersion: "v1", kind: "Node", name: "testnode", uid: "node-uid-1", controller: true)])
        // Seen again (by the watch) it is left alone.
        for _ in 0..<3 {
            f.sync([.init(pod: pod, terminating: false)])
            try await Task.sleep(for: .milliseconds(60))
        }
        #expect(f.api.creates.count == 1)
    }

    @Test func waitsForTheNodesUID() async throws {
        let f = MirrorPodsFixture()
        f.nodeUID.value.withLock { $0 = nil }
        let task = Task { await f.mirrors.run() }
        defer { task.cancel() }
        f.sync([.init(pod: try staticPod("etcd", hash: "h1"), terminating: false)])
        try await Task.sleep(for: .milliseconds(200))
        #expect(f.api.creates.isEmpty)
        f.nodeUID.value.withLock { $0 = "node-uid-2" }
        #expect(await eventually { f.api.pod("etcd-testnode") != nil })
        #expect(f.api.pod("etcd-testnode")?.metadata.ownerReferences?.first?.uid == "node-uid-2")
    }

    @Test func deletedMirrorIsRecreatedAndOrphanIsDeleted() async throws {
        let f = MirrorPodsFixture()
        let task = Task { await f.mirrors.run() }
        defer { task.cancel() }
        let pod = try staticPod("etcd", hash: "h1")
        f.sync([.init(pod: pod, terminating: false)])
        #expect(await eventually { f.api.pod("etcd-testnode") != nil })
        let first = try #require(f.api.pod("etcd-testnode")?.metadata.uid)
        // kubectl delete: the server marks it; the agent removes it and makes a new one.
        f.api.requestDelete(name: "etcd-testnode", grace: 30)
        f.sync([.init(pod: pod, terminating: false)])
        #expect(await eventually { (f.api.pod("etcd-testnode")?.metadata.uid).map { $0 != first } ?? false })
        #expect(f.api.deletes.map(\.uid) == [first])
        #expect(f.api.pod("etcd-testnode")?.metadata.deletionTimestamp == nil)
        // A changed manifest (new hash): the old mirror goes, one for the new version comes.
        let second = try #require(f.api.pod("etcd-testnode")?.metadata.uid)
        let changed = try staticPod("etcd", hash: "h2")
        f.sync([.init(pod: changed, terminating: false)])
        #expect(await eventually { f.api.pod("etcd-testnode")?.metadata.annotations?[PodSourceAnnotation.mirror] == "h2" })
        #expect(f.api.deletes.map(\.uid) == [first, second])
        // While the static pod terminates its mirror stays (its final status goes there); once it
        // is gone, the mirror is deleted.
        f.sync([.init(pod: changed, terminating: true)])
        try await Task.sleep(for: .milliseconds(200))
        #expect(f.api.pod("etcd-testnode") != nil)
        f.sync([])
        #expect(await eventually { f.api.pod("etcd-testnode") == nil })
    }

    @Test func nothingHappensBeforeTheFirstList() async throws {
        let f = MirrorPodsFixture()
        let task = Task { await f.mirrors.run() }
        defer { task.cancel() }
        f.mirrors.update(staticPods: [.init(pod: try staticPod("etcd", hash: "h1"), terminating: false)], mirrors: [:], synced: false)
        try await Task.sleep(for: .milliseconds(200))
        #expect(f.api.creates.isEmpty)
    }
}

/// Runs MirrorPods and feeds it the API's mirror pods whenever asked, as the agent's sync does.
final class MirrorPodsFixture: Sendable {
    let api = FakePodAPI()
    let nodeUID = NodeUIDBox()
    let mirrors: MirrorPods
    init() {
        let uid = nodeUID
        mirrors = MirrorPods(api: api, nodeName: "testnode", nodeUID: { uid.value.withLock { $0 } }, retryInterval: .milliseconds(50))
    }
    func observed() -> [String: Pod] {
        Dictionary(api.allPods.filter(\.isMirrorPod).map { ($0.namespacedNameForTests, $0) }, uniquingKeysWith: { a, _ in a })
    }
    func sync(_ pods: [MirrorPods.StaticPod]) {
        mirrors.update(staticPods: pods, mirrors: observed(), synced: true)
    }
}

/// The Node's uid as the node status reporter would learn it.
final class NodeUIDBox: Sendable {
    let value = Mutex<String?>("node-uid-1")
}
