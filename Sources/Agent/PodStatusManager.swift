import Foundation
import KubeAPI
import Logging
import Synchronization

/// kubelet's status manager (pkg/kubelet/status/status_manager.go): sends each pod's status to
/// the API server when it changes, for pods from the API and for the mirror pods of static pods.
///
/// - Pod workers call `setStatus` with every new status (the one they write to the StatusStore);
///   each call makes a new version. A pod's status is sent by one request at a time, always the
///   latest version: changes that arrive while a request is out, or within the `coalesce` window
///   (none by default: kubelet sends a status as soon as a sync produces it, and one request at
///   a time per pod already merges a burst), are sent together, and an older version is never
///   sent after a newer one.
/// - Failures are retried with back-off (`retryInitial` doubling up to `retryMax`).
/// - `status.hostIP`/`hostIPs` are the node's addresses (kubelet sets them from the Node).
/// - When a worker has terminated its pod (containers gone), its final status is sent and, if
///   the API asked for the pod's deletion, the pod is deleted with grace 0 and a uid
///   precondition (kubelet's `canBeDeleted` → `Delete(..., GracePeriodSeconds: 0, Preconditions: {UID})`).
public final class PodStatusManager: Sendable {
    public let api: any PodAPI
    public let nodeIPs: [String]
    let coalesce: Duration
    let retryInitial: Duration
    let retryMax: Duration
    let logger: Logger

    private enum Target { case apiPod, mirrorPod }

    private struct Entry {
        var pod: Pod
        var target: Target
        var status: PodStatus
        var version = 1
        var sentVersion = 0
        var terminated = false
        var inFlight = false
        var failures = 0
        var notBefore: ContinuousClock.Instant?

        var needsWork: Bool { version > sentVersion || terminated }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Pods the API marked for deletion: removed from the API once terminated.
        var deleteWhenTerminated: Set<String> = []
        var sent = 0
    }
    private let state = Mutex(State())
    private let wake = WakeSignal()

    public init(api: any PodAPI, nodeIPs: [String] = [], coalesce: Duration = .zero,
                retryInitial: Duration = .milliseconds(500), retryMax: Duration = .seconds(30),
                logger: Logger = Logger(label: "swiftlet.agent.status")) {
        self.api = api
        self.nodeIPs = nodeIPs
        self.coalesce = coalesce
        self.retryInitial = retryInitial
        self.retryMax = retryMax
        self.logger = logger
    }

    /// A new status for a pod (from its worker). Pods neither from the API nor static are ignored.
    public func setStatus(_ status: PodStatus, for pod: Pod) {
        guard let uid = pod.metadata.uid, let target = Self.target(of: pod) else { return }
        let changed = state.withLock { state -> Bool in
            if var entry = state.entries[uid] {
                guard entry.status != status, !entry.terminated else { return false }
                entry.status = status
                entry.version += 1
                state.entries[uid] = entry
            } else {
                state.entries[uid] = Entry(pod: pod, target: target, status: status)
            }
            return true
        }
        if changed { wake.signal() }
    }

    /// The pod's worker has stopped its containers and released it; `status` is its last.
    public func podTerminated(_ pod: Pod, finalStatus status: PodStatus) {
        guard let uid = pod.metadata.uid, let target = Self.target(of: pod) else { return }
        state.withLock { state in
            var entry = state.entries[uid] ?? Entry(pod: pod, target: target, status: status)
            if entry.status != status {
                entry.status = status
                entry.version += 1
            }
            entry.terminated = true
            state.entries[uid] = entry
        }
        wake.signal()
    }

    /// The API deleted this pod (deletionTimestamp): once terminated, remove its object.
    public func deleteWhenTerminated(uid: String) {
        state.withLock { _ = $0.deleteWhenTerminated.insert(uid) }
    }

    /// The mirror pod of this static pod was (re)created: its status starts empty, send ours again.
    public func resend(uid: String) {
        state.withLock { state in
            guard var entry = state.entries[uid] else { return }
            entry.sentVersion = 0
            entry.failures = 0
            entry.notBefore = nil
            state.entries[uid] = entry
        }
        wake.signal()
    }

    /// Status updates sent so far (for tests and metrics).
    public var sentCount: Int { state.withLock { $0.sent } }

    /// Sends statuses until the task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                await wake.wait(timeout: nextRetry())
                // Let a burst of changes (containers starting together) become one update.
                if coalesce > .zero { try? await Task.sleep(for: coalesce) }
                for uid in takeDue() {
                    group.addTask { [self] in
                        await sync(uid)
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// Time until the earliest retry, at most a second.
    private func nextRetry() -> Duration {
        let now = ContinuousClock.now
        return state.withLock { state in
            state.entries.values.compactMap { entry -> Duration? in
                guard entry.needsWork, !entry.inFlight, let notBefore = entry.notBefore else { return nil }
                return max(notBefore - now, .zero)
            }.min().map { min($0, .seconds(1)) } ?? .seconds(1)
        }
    }

    /// The pods to sync now, marked in flight so each has one request at a time.
    private func takeDue() -> [String] {
        let now = ContinuousClock.now
        return state.withLock { state in
            var due: [String] = []
            for (uid, entry) in state.entries where entry.needsWork && !entry.inFlight && (entry.notBefore ?? now) <= now {
                state.entries[uid]?.inFlight = true
                due.append(uid)
            }
            return due
        }
    }

    private enum Outcome {
        case sent(version: Int)
        /// Nothing more to do for this pod: forget it.
        case done
        case failed(String)
        /// The static pod's mirror does not exist (yet): retried with back-off, not worth a warning.
        case waitingForMirror
    }

    private func sync(_ uid: String) async {
        guard let entry = state.withLock({ $0.entries[uid] }) else { return }
        let outcome = await send(entry, uid: uid)
        let again = state.withLock { state -> Bool in
            guard var current = state.entries[uid] else { return false }
            current.inFlight = false
            switch outcome {
            case .sent(let version):
                state.sent += 1
                current.sentVersion = max(current.sentVersion, version)
                current.failures = 0
                current.notBefore = nil
                if current.terminated && current.version <= current.sentVersion {
                    // Terminated and its last status is out; a deletion, if asked for, happened in send.
                    state.entries[uid] = nil
                    state.deleteWhenTerminated.remove(uid)
                    return false
                }
            case .done:
                state.entries[uid] = nil
                state.deleteWhenTerminated.remove(uid)
                return false
            case .failed, .waitingForMirror:
                current.failures += 1
                current.notBefore = ContinuousClock.now + delay(current.failures)
            }
            state.entries[uid] = current
            return current.needsWork
        }
        if case .failed(let message) = outcome {
            logger.warning("pod status update failed, will retry", metadata: [
                "pod": "\(entry.pod.namespacedName)", "uid": "\(uid)", "error": "\(message)"])
        }
        if again { wake.signal() }
    }

    private func send(_ entry: Entry, uid: String) async -> Outcome {
        let namespace = entry.pod.metadata.namespace ?? "default"
        let name = entry.pod.metadata.name ?? ""
        var status = entry.status
        if let first = nodeIPs.first {
            status.hostIP = first
            status.hostIPs = nodeIPs.map { HostIP(ip: $0) }
        }
        do {
            switch entry.target {
            case .apiPod:
                if entry.version > entry.sentVersion {
                    try await api.updatePodStatus(namespace: namespace, name: name, uid: uid, status: status)
                }
                let delete = entry.terminated && state.withLock { $0.deleteWhenTerminated.contains(uid) }
                if delete {
                    // kubelet's status manager: the containers are gone and the final status is
                    // written, so the object can go (grace 0: nothing is left to wait for).
                    try await api.deletePod(namespace: namespace, name: name, uid: uid)
                    logger.info("pod deleted from the API after termination", metadata: ["pod": "\(namespace)/\(name)", "uid": "\(uid)"])
                }
                return .sent(version: entry.version)
            case .mirrorPod:
                // The static pod's status goes to its mirror pod (kubelet translates the uid).
                let mirror = try await api.getPod(namespace: namespace, name: name)
                let hash = entry.pod.metadata.annotations?[PodSourceAnnotation.hash] ?? uid
                guard mirror.metadata.annotations?[PodSourceAnnotation.mirror] == hash,
                      mirror.metadata.deletionTimestamp == nil, let mirrorUID = mirror.metadata.uid else {
                    // Not (yet) our mirror: MirrorPods recreates it and calls resend.
                    return entry.terminated ? .done : .waitingForMirror
                }
                if entry.version > entry.sentVersion {
                    try await api.updatePodStatus(namespace: namespace, name: name, uid: mirrorUID, status: status)
                }
                return .sent(version: entry.version)
            }
        } catch PodAPIError.notFound {
            // The pod is gone from the API (deleted with grace 0, or its mirror not created yet).
            return entry.target == .mirrorPod && !entry.terminated ? .waitingForMirror : .done
        } catch PodAPIError.conflict(let message) {
            // The uid precondition failed: the name belongs to a newer pod; kubelet skips the
            // update ("pod was deleted and then recreated").
            if entry.target == .apiPod { return .done }
            return .failed(message)
        } catch {
            return .failed("\(error)")
        }
    }

    private func delay(_ failures: Int) -> Duration {
        var delay = retryInitial
        for _ in 1..<max(failures, 1) where delay < retryMax { delay = delay * 2 }
        return min(delay, retryMax)
    }

    private static func target(of pod: Pod) -> Target? {
        if pod.isAPIPod { return .apiPod }
        if pod.isStaticPod { return .mirrorPod }
        return nil
    }
}
