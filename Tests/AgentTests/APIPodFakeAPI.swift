import Agent
import Foundation
import KubeAPI
import Runtime
import Synchronization

/// An in-memory API server for the pod calls of `PodAPI`, behaving like kube-apiserver where the
/// agent can tell: resource versions, watch events after a version, 410 Gone for compacted
/// versions, graceful deletion of bound pods (deletionTimestamp + deletionGracePeriodSeconds),
/// uid preconditions, AlreadyExists on create. Tests drive it like a user or controller would.
final class FakePodAPI: PodAPI {
    struct StatusUpdate: Sendable {
        var uid: String
        var name: String
        var status: PodStatus
    }

    private struct Watcher {
        var nodeName: String
        var continuation: AsyncThrowingStream<PodEvent, any Error>.Continuation
    }

    private struct State {
        var pods: [String: Pod] = [:]
        var version = 1
        var history: [(version: Int, event: PodEvent)] = []
        /// Watches from versions below this get 410 Gone (the history after it is kept).
        var compacted = 0
        var watchers: [UUID: Watcher] = [:]
        var statusUpdates: [StatusUpdate] = []
        var deletes: [(name: String, uid: String)] = []
        var creates: [Pod] = []
        var lists = 0
        var watches = 0
        /// The next this many status updates fail with a 500.
        var failStatusUpdates = 0
        var statusDelay: Duration = .zero
        /// Secrets by "namespace/name".
        var secrets: [String: PullSecret] = [:]
        var secretReads: [String] = []
        var events: [PodEventRecord] = []
        /// ConfigMaps and Secrets for volumes and env, by "namespace/name".
        var configMaps: [String: ConfigObject] = [:]
        var configSecrets: [String: ConfigObject] = [:]
        var configReads: [String] = []
        var tokenRequests: [String] = []
    }
    private let state = Mutex(State())

    // MARK: PodAPI

    func listPods(nodeName: String) async throws -> (pods: [Pod], resourceVersion: String) {
        state.withLock { state in
            state.lists += 1
            let pods = state.pods.values.filter { $0.spec.nodeName == nodeName }.sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
            return (pods, String(state.version))
        }
    }

    func watchPods(nodeName: String, resourceVersion: String) -> AsyncThrowingStream<PodEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: PodEvent.self, throwing: (any Error).self)
        let id = UUID()
        state.withLock { state in
            state.watches += 1
            guard let from = Int(resourceVersion), from >= state.compacted else {
                continuation.finish(throwing: PodAPIError.gone("too old resource version: \(resourceVersion)"))
                return
            }
            for (version, event) in state.history where version > from && event.pod.spec.nodeName == nodeName {
                continuation.yield(event)
            }
            state.watchers[id] = Watcher(nodeName: nodeName, continuation: continuation)
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }

    func getPod(namespace: String, name: String) async throws -> Pod {
        guard let pod = state.withLock({ $0.pods[namespace + "/" + name] }) else {
            throw PodAPIError.notFound("pods \"\(name)\" not found")
        }
        return pod
    }

    func updatePodStatus(namespace: String, name: String, uid: String, status: PodStatus) async throws {
        let delay = state.withLock { $0.statusDelay }
        if delay > .zero { try await Task.sleep(for: delay) }
        try state.withLock { state in
            if state.failStatusUpdates > 0 {
                state.failStatusUpdates -= 1
                throw PodAPIError.other("Internal error occurred: injected by the test")
            }
            let key = namespace + "/" + name
            guard var pod = state.pods[key] else { throw PodAPIError.notFound("pods \"\(name)\" not found") }
            guard pod.metadata.uid == uid else {
                throw PodAPIError.conflict("Precondition failed: UID in precondition: \(uid), UID in object meta: \(pod.metadata.uid ?? "")")
            }
            pod.status = status
            state.statusUpdates.append(StatusUpdate(uid: uid, name: key, status: status))
            Self.store(pod, in: &state, as: PodEvent.modified)
        }
    }

    func deletePod(namespace: String, name: String, uid: String) async throws {
        try state.withLock { state in
            let key = namespace + "/" + name
            guard let pod = state.pods[key] else { throw PodAPIError.notFound("pods \"\(name)\" not found") }
            guard pod.metadata.uid == uid else { throw PodAPIError.conflict("Precondition failed: UID in precondition: \(uid)") }
            state.deletes.append((key, uid))
            Self.remove(key, in: &state)
        }
    }

    func createPod(_ pod: Pod) async throws -> Pod {
        try state.withLock { state in
            var pod = pod
            pod.metadata.namespace = pod.metadata.namespace ?? "default"
            let key = pod.namespacedNameForTests
            guard state.pods[key] == nil else { throw PodAPIError.conflict("pods \"\(pod.metadata.name ?? "")\" already exists") }
            pod.metadata.uid = UUID().uuidString.lowercased()
            pod.metadata.creationTimestamp = Time(Date())
            state.creates.append(pod)
            return Self.store(pod, in: &state, as: PodEvent.added)
        }
    }

    func getPullSecret(namespace: String, name: String) async throws -> PullSecret {
        try state.withLock { state in
            state.secretReads.append("\(namespace)/\(name)")
            guard let secret = state.secrets["\(namespace)/\(name)"] else {
                throw PodAPIError.notFound("secrets \"\(name)\" not found")
            }
            return secret
        }
    }

    func getConfigMap(namespace: String, name: String) async throws -> ConfigObject {
        try state.withLock { state in
            state.configReads.append("configmaps/\(namespace)/\(name)")
            guard let object = state.configMaps["\(namespace)/\(name)"] else {
                throw PodAPIError.notFound("configmaps \"\(name)\" not found")
            }
            return object
        }
    }

    func getPersistentVolumeClaim(namespace: String, name: String) async throws -> JSONValue {
        throw PodAPIError.notFound("persistentvolumeclaims \"\(name)\" not found")
    }

    func getPersistentVolume(name: String) async throws -> JSONValue {
        throw PodAPIError.notFound("persistentvolumes \"\(name)\" not found")
    }

    func getSecret(namespace: String, name: String) async throws -> ConfigObject {
        try state.withLock { state in
            state.configReads.append("secrets/\(namespace)/\(name)")
            guard let object = state.configSecrets["\(namespace)/\(name)"] else {
                throw PodAPIError.notFound("secrets \"\(name)\" not found")
            }
            return object
        }
    }

    func setConfigMap(_ namespace: String, _ name: String, _ object: ConfigObject?) {
        state.withLock { $0.configMaps["\(namespace)/\(name)"] = object }
    }

    func setSecret(_ namespace: String, _ name: String, _ object: ConfigObject?) {
        state.withLock { $0.configSecrets["\(namespace)/\(name)"] = object }
    }

    var configReads: [String] { state.withLock { $0.configReads } }

    /// Issues `token-<n>` valid for the seconds asked, recording each request.
    func requestServiceAccountToken(namespace: String, serviceAccount: String, audiences: [String], expirationSeconds: Int64,
                                    podName: String, podUID: String) async throws -> (token: String, expiration: Date) {
        state.withLock { state in
            state.tokenRequests.append("\(namespace)/\(serviceAccount) pod=\(podName)/\(podUID) audiences=\(audiences) seconds=\(expirationSeconds)")
            return ("token-\(state.tokenRequests.count)", Date().addingTimeInterval(TimeInterval(expirationSeconds)))
        }
    }

    var tokenRequests: [String] { state.withLock { $0.tokenRequests } }

    func recordEvent(_ event: PodEventRecord) async throws {
        state.withLock { $0.events.append(event) }
    }

    // MARK: What a user or controller does

    /// `kubectl create secret docker-registry`.
    func addSecret(_ secret: PullSecret, namespace: String = "default") {
        state.withLock { $0.secrets["\(namespace)/\(secret.name)"] = secret }
    }

    /// The Events recorded so far.
    var events: [PodEventRecord] { state.withLock { $0.events } }

    /// The secrets read so far, as "namespace/name".
    var secretReads: [String] { state.withLock { $0.secretReads } }

    /// `kubectl create`: a pod bound to a node (as after scheduling); returns it with its uid.
    @discardableResult
    func add(_ pod: Pod) -> Pod {
        state.withLock { state in
            var pod = pod
            pod.metadata.namespace = pod.metadata.namespace ?? "default"
            if pod.metadata.uid == nil { pod.metadata.uid = UUID().uuidString.lowercased() }
            pod.metadata.creationTimestamp = Time(Date())
            return Self.store(pod, in: &state, as: state.pods[pod.namespacedNameForTests] == nil ? PodEvent.added : PodEvent.modified)
        }
    }

    /// `kubectl delete pod [--grace-period]`: a bound pod is only marked (deletionTimestamp),
    /// the agent finishes the deletion; an unbound one or grace 0 goes at once.
    func requestDelete(namespace: String = "default", name: String, grace: Int64? = nil) {
        state.withLock { state in
            let key = namespace + "/" + name
            guard var pod = state.pods[key] else { return }
            let period = grace ?? pod.spec.terminationGracePeriodSeconds ?? 30
            if pod.spec.nodeName == nil || period == 0 {
                Self.remove(key, in: &state)
                return
            }
            pod.metadata.deletionTimestamp = Time(Date().addingTimeInterval(Double(period)))
            pod.metadata.deletionGracePeriodSeconds = min(period, pod.metadata.deletionGracePeriodSeconds ?? period)
            Self.store(pod, in: &state, as: PodEvent.modified)
        }
    }

    /// `kubectl delete --force --grace-period=0`.
    func forceDelete(namespace: String = "default", name: String) {
        state.withLock { Self.remove(namespace + "/" + name, in: &$0) }
    }

    /// The store compacts its history and every watch ends with 410 Gone.
    func expireWatches() {
        let watchers = state.withLock { state -> [Watcher] in
            state.compacted = state.version
            state.history = []
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.continuation.finish(throwing: PodAPIError.gone("too old resource version")) }
    }

    /// Breaks every open watch as a lost connection does (the server died or the client gave
    /// it up); the history stays, so a watch from the last version seen misses nothing.
    func breakWatches() {
        let watchers = state.withLock { state -> [Watcher] in
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.continuation.finish(throwing: PodAPIError.unavailable("GET https://10.0.0.1:6443/api/v1/pods failed: the server closed the connection")) }
    }

    func failNextStatusUpdates(_ count: Int) { state.withLock { $0.failStatusUpdates = count } }
    func delayStatusUpdates(_ delay: Duration) { state.withLock { $0.statusDelay = delay } }

    // MARK: What tests read

    func pod(namespace: String = "default", _ name: String) -> Pod? { state.withLock { $0.pods[namespace + "/" + name] } }
    var allPods: [Pod] { state.withLock { Array($0.pods.values) } }
    var statusUpdates: [StatusUpdate] { state.withLock { $0.statusUpdates } }
    var deletes: [(name: String, uid: String)] { state.withLock { $0.deletes } }
    var creates: [Pod] { state.withLock { $0.creates } }
    var listCount: Int { state.withLock { $0.lists } }
    var watchCount: Int { state.withLock { $0.watches } }
    var activeWatches: Int { state.withLock { $0.watchers.count } }

    // MARK: Store

    @discardableResult
    private static func store(_ pod: Pod, in state: inout State, as kind: (Pod) -> PodEvent) -> Pod {
        var pod = pod
        state.version += 1
        pod.metadata.resourceVersion = String(state.version)
        state.pods[pod.namespacedNameForTests] = pod
        publish(kind(pod), version: state.version, in: &state)
        return pod
    }

    private static func remove(_ key: String, in state: inout State) {
        guard var pod = state.pods.removeValue(forKey: key) else { return }
        state.version += 1
        pod.metadata.resourceVersion = String(state.version)
        publish(.deleted(pod), version: state.version, in: &state)
    }

    private static func publish(_ event: PodEvent, version: Int, in state: inout State) {
        state.history.append((version, event))
        for watcher in state.watchers.values where event.pod.spec.nodeName == watcher.nodeName {
            watcher.continuation.yield(event)
        }
    }
}

extension Pod {
    var namespacedNameForTests: String { "\(metadata.namespace ?? "default")/\(metadata.name ?? "")" }
}

/// A pod as the scheduler leaves it: defaulted, bound to `node`.
func boundPod(_ name: String, node: String = "testnode", grace: Int64 = 1,
              command: [String] = ["sleep", "1000"], restartPolicy: String? = nil) throws -> Pod {
    var pod = Pod(metadata: ObjectMeta(name: name, namespace: "default"),
                  spec: PodSpec(containers: [Container(name: "c", image: "busybox", command: command)]))
    pod.spec.terminationGracePeriodSeconds = grace
    pod.spec.restartPolicy = restartPolicy
    pod.spec.nodeName = node
    return try pod.withDefaults().validated()
}
