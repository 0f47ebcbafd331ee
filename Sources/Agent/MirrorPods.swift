import Foundation
import KubeAPI
import Logging
import Synchronization

/// Mirror pods: each static pod's copy in the API server, so `kubectl get pods` shows it
/// (kubelet's mirror_client.go and the mirror pod handling of syncPod/HandlePodCleanups).
///
/// A mirror pod has the static pod's namespace, name, labels, annotations and spec (nodeName
/// set), plus `kubernetes.io/config.mirror: <config hash>` and an ownerReference to the Node.
/// It is created while the static pod runs, deleted and created again when it is deleted in
/// the API or no longer matches the static pod, and deleted once the static pod has terminated.
/// Like kubelet, a mirror pod is created only once the Node's uid is known (its owner).
public final class MirrorPods: Sendable {
    /// A static pod as the agent runs it, and whether it is being stopped.
    public struct StaticPod: Sendable {
        public var pod: Pod
        public var terminating: Bool
        public init(pod: Pod, terminating: Bool) {
            self.pod = pod
            self.terminating = terminating
        }
    }

    public let api: any PodAPI
    public let nodeName: String
    let nodeUID: @Sendable () -> String?
    let statusManager: PodStatusManager?
    let logger: Logger
    let retryInterval: Duration

    private struct State {
        /// By namespace/name: the static pods with a worker.
        var wanted: [String: StaticPod] = [:]
        /// By namespace/name: the mirror pods the API source has seen.
        var observed: [String: Pod] = [:]
        var synced = false
        /// Mirrors created but not yet seen by the watch: (hash, uid, when).
        var created: [String: (hash: String, uid: String, at: ContinuousClock.Instant)] = [:]
        var creations = 0
        var deletions = 0
    }
    private let state = Mutex(State())
    private let wake = WakeSignal()

    public init(api: any PodAPI, nodeName: String, nodeUID: @escaping @Sendable () -> String?,
                statusManager: PodStatusManager? = nil, retryInterval: Duration = .seconds(2),
                logger: Logger = Logger(label: "swiftlet.agent.mirror")) {
        self.api = api
        self.nodeName = nodeName
        self.nodeUID = nodeUID
        self.statusManager = statusManager
        self.retryInterval = retryInterval
        self.logger = logger
    }

    /// The agent's view after each sync: its static pods and the API's mirror pods (`synced`:
    /// the API source has listed, so a missing mirror is really missing).
    public func update(staticPods: [StaticPod], mirrors: [String: Pod], synced: Bool) {
        state.withLock { state in
            state.wanted = Dictionary(staticPods.map { ($0.pod.namespacedName, $0) }, uniquingKeysWith: { first, _ in first })
            state.observed = mirrors
            state.synced = synced
        }
        wake.signal()
    }

    /// Mirror pods created and deleted so far.
    public var counts: (created: Int, deleted: Int) { state.withLock { ($0.creations, $0.deletions) } }

    /// Keeps the mirror pods in line until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await wake.wait(timeout: retryInterval)
            if Task.isCancelled { return }
            await reconcile()
        }
    }

    enum Action {
        case create(StaticPod, hash: String)
        case delete(Pod, reason: String)
        case replace(Pod, StaticPod, hash: String, reason: String)
    }

    /// One pass: what to create and delete, from the latest view.
    func plan() -> [Action] {
        let now = ContinuousClock.now
        return state.withLock { state -> [Action] in
            guard state.synced else { return [] }
            var actions: [Action] = []
            // The watch has caught up with a creation (or it is old enough to trust the watch).
            state.created = state.created.filter { key, created in
                state.observed[key]?.metadata.uid != created.uid && now - created.at < .seconds(10)
            }
            for (key, mirror) in state.observed {
                guard let wanted = state.wanted[key] else {
                    actions.append(.delete(mirror, reason: "its static pod is gone"))
                    continue
                }
                let hash = Self.hash(of: wanted.pod)
                if mirror.metadata.annotations?[PodSourceAnnotation.mirror] != hash {
                    actions.append(wanted.terminating ? .delete(mirror, reason: "it mirrors another version of the static pod")
                                   : .replace(mirror, wanted, hash: hash, reason: "it mirrors another version of the static pod"))
                } else if mirror.metadata.deletionTimestamp != nil {
                    // Deleted in the API (kubectl delete): kubelet removes it at once and, while the
                    // static pod runs, creates it again.
                    actions.append(wanted.terminating ? .delete(mirror, reason: "it was deleted in the API")
                                   : .replace(mirror, wanted, hash: hash, reason: "it was deleted in the API"))
                }
            }
            for (key, wanted) in state.wanted where !wanted.terminating && state.observed[key] == nil {
                let hash = Self.hash(of: wanted.pod)
                if let created = state.created[key], created.hash == hash { continue }
                actions.append(.create(wanted, hash: hash))
            }
            return actions
        }
    }

    private func reconcile() async {
        for action in plan() {
            switch action {
            case .create(let wanted, let hash):
                await create(wanted, hash: hash)
            case .delete(let mirror, let reason):
                await delete(mirror, reason: reason)
            case .replace(let mirror, let wanted, let hash, let reason):
                if await delete(mirror, reason: reason) { await create(wanted, hash: hash) }
            }
        }
    }

    @discardableResult
    private func create(_ wanted: StaticPod, hash: String) async -> Bool {
        guard let nodeUID = nodeUID() else {
            logger.debug("mirror pod waits for the Node's uid", metadata: ["pod": "\(wanted.pod.namespacedName)"])
            return false
        }
        let mirror = Self.mirror(of: wanted.pod, hash: hash, nodeName: nodeName, nodeUID: nodeUID)
        let key = wanted.pod.namespacedName
        do {
            let created = try await api.createPod(mirror)
            state.withLock { state in
                state.created[key] = (hash, created.metadata.uid ?? "", ContinuousClock.now)
                state.creations += 1
            }
            logger.info("mirror pod created", metadata: ["pod": "\(key)", "uid": "\(created.metadata.uid ?? "")"])
            if let uid = wanted.pod.metadata.uid { statusManager?.resend(uid: uid) }
            return true
        } catch PodAPIError.conflict {
            // kubelet: AlreadyExists is fine when the existing pod mirrors the same static pod.
            if let existing = try? await api.getPod(namespace: mirror.metadata.namespace ?? "default", name: mirror.metadata.name ?? ""),
               existing.metadata.annotations?[PodSourceAnnotation.mirror] == hash {
                return true
            }
            logger.warning("mirror pod not created: a pod of that name exists", metadata: ["pod": "\(key)"])
            return false
        } catch {
            logger.warning("mirror pod not created, will retry", metadata: ["pod": "\(key)", "error": "\(error)"])
            return false
        }
    }

    @discardableResult
    private func delete(_ mirror: Pod, reason: String) async -> Bool {
        guard let uid = mirror.metadata.uid else { return false }
        do {
            try await api.deletePod(namespace: mirror.metadata.namespace ?? "default", name: mirror.metadata.name ?? "", uid: uid)
        } catch PodAPIError.notFound {
            // Already gone.
        } catch {
            logger.warning("mirror pod not deleted, will retry", metadata: ["pod": "\(mirror.namespacedName)", "error": "\(error)"])
            return false
        }
        state.withLock { state in
            state.deletions += 1
            if state.observed[mirror.namespacedName]?.metadata.uid == uid { state.observed[mirror.namespacedName] = nil }
        }
        logger.info("mirror pod deleted", metadata: ["pod": "\(mirror.namespacedName)", "uid": "\(uid)", "reason": "\(reason)"])
        return true
    }

    /// The static pod's config hash (its uid for pods from files).
    static func hash(of pod: Pod) -> String {
        pod.metadata.annotations?[PodSourceAnnotation.hash] ?? pod.metadata.uid ?? ""
    }

    /// kubelet's CreateMirrorPod: a copy with the mirror annotation and the Node as owner; the
    /// server gives it a uid of its own.
    static func mirror(of pod: Pod, hash: String, nodeName: String, nodeUID: String) -> Pod {
        var mirror = Pod(metadata: ObjectMeta(name: pod.metadata.name, namespace: pod.metadata.namespace ?? "default"),
                         spec: pod.spec)
        mirror.metadata.labels = pod.metadata.labels
        var annotations = pod.metadata.annotations ?? [:]
        annotations[PodSourceAnnotation.mirror] = hash
        annotations[PodSourceAnnotation.hash] = hash
        annotations[PodSourceAnnotation.source] = "file"
        mirror.metadata.annotations = annotations
        mirror.metadata.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "Node", name: nodeName, uid: nodeUID, controller: true)]
        mirror.spec.nodeName = nodeName
        return mirror
    }
}
