import Foundation
import KubeAPI
import Logging
import Synchronization

/// kubelet's API server pod source (pkg/kubelet/config/apiserver.go, a reflector on
/// `pods?fieldSelector=spec.nodeName=<node>`): lists the pods bound to this node, then watches
/// them, and keeps the latest copy of each. After a watch ends, or its connection breaks
/// (`PodAPIError.unavailable`: the server went away, possibly for another), it watches again
/// from the last version seen; when that version is gone (410) or the watch fails otherwise it
/// lists again, failures with back-off, as client-go's reflector does (a closed stream ends
/// `watchHandler` without error and `ListAndWatch` watches again). The agent reads the result
/// with `snapshot()` and is told of changes through `onChange`.
public final class APIPodSource: Sendable {
    /// What the agent needs of the API's view: the pods to run, the mirror pods, and whether a
    /// list has succeeded yet (before that, absence from the API means nothing).
    public struct Snapshot: Sendable {
        public var synced: Bool
        /// Pods to run or terminate, by uid (mirror pods excluded), marked `config.source: api`.
        public var pods: [String: Pod]
        /// Mirror pods bound to this node, by namespace/name.
        public var mirrors: [String: Pod]
    }

    public let api: any PodAPI
    public let nodeName: String
    let backoffInitial: Duration
    let backoffMax: Duration
    let logger: Logger
    let onChange: @Sendable () -> Void

    private struct State {
        var synced = false
        var pods: [String: Pod] = [:]
        var resourceVersion: String?
        var lists = 0
    }
    private let state = Mutex(State())

    public init(api: any PodAPI, nodeName: String, backoffInitial: Duration = .milliseconds(800),
                backoffMax: Duration = .seconds(30), logger: Logger = Logger(label: "swiftlet.agent.api-source"),
                onChange: @escaping @Sendable () -> Void = {}) {
        self.api = api
        self.nodeName = nodeName
        self.backoffInitial = backoffInitial
        self.backoffMax = backoffMax
        self.logger = logger
        self.onChange = onChange
    }

    public func snapshot() -> Snapshot {
        state.withLock { state in
            var snapshot = Snapshot(synced: state.synced, pods: [:], mirrors: [:])
            for (uid, pod) in state.pods {
                if pod.isMirrorPod { snapshot.mirrors[pod.namespacedName] = pod } else { snapshot.pods[uid] = pod }
            }
            return snapshot
        }
    }

    /// How many lists succeeded (tests check that a 410 led to a new list).
    public var listCount: Int { state.withLock { $0.lists } }

    /// Lists and watches until the task is cancelled.
    public func run() async {
        var failures = 0
        while !Task.isCancelled {
            let resumeFrom = state.withLock { $0.resourceVersion }
            if resumeFrom == nil {
                do {
                    try await list()
                } catch {
                    failures += 1
                    logger.warning("listing the node's pods failed, retrying", metadata: [
                        "node": "\(nodeName)", "error": "\(error)", "retryIn": "\(delay(failures))"])
                    try? await Task.sleep(for: delay(failures))
                    continue
                }
            }
            let version = state.withLock { $0.resourceVersion } ?? ""
            let started = ContinuousClock.now
            var delivered = false
            do {
                for try await event in api.watchPods(nodeName: nodeName, resourceVersion: version) {
                    apply(event)
                    delivered = true
                }
                // A watch ends when the server times it out or the connection drops: watch again
                // from the last version seen. One that ended at once without news counts as a
                // failure, so a server that keeps closing watches is not hammered.
                if !delivered && ContinuousClock.now - started < .seconds(1) {
                    failures += 1
                    try? await Task.sleep(for: delay(failures))
                } else {
                    failures = 0
                }
            } catch PodAPIError.gone(let message) {
                // The version is compacted away: list again, at once (the reflector's relist).
                logger.info("pod watch expired, listing again", metadata: ["node": "\(nodeName)", "reason": "\(message)"])
                state.withLock { $0.resourceVersion = nil }
                // A server that answers every fresh list's version with 410 is not hammered either.
                if !delivered && ContinuousClock.now - started < .seconds(1) {
                    failures += 1
                    try? await Task.sleep(for: delay(failures))
                }
            } catch PodAPIError.unavailable(let message) {
                // The version stays valid on every server of the cluster: resume from it.
                if Task.isCancelled { return }
                failures = delivered ? 1 : failures + 1
                logger.info("pod watch broke, watching again from the last version", metadata: [
                    "node": "\(nodeName)", "error": "\(message)", "retryIn": "\(delay(failures))"])
                try? await Task.sleep(for: delay(failures))
            } catch {
                if Task.isCancelled { return }
                failures += 1
                logger.warning("pod watch failed, listing again", metadata: [
                    "node": "\(nodeName)", "error": "\(error)", "retryIn": "\(delay(failures))"])
                state.withLock { $0.resourceVersion = nil }
                try? await Task.sleep(for: delay(failures))
            }
        }
    }

    /// Replaces the known pods with a fresh list: pods missing from it are gone (deleted while
    /// the watch was down), which the agent sees as their removal.
    private func list() async throws {
        let (pods, version) = try await api.listPods(nodeName: nodeName)
        var byUID: [String: Pod] = [:]
        for pod in pods {
            guard let uid = pod.metadata.uid, pod.spec.nodeName == nodeName else { continue }
            byUID[uid] = Self.marked(pod)
        }
        state.withLock { state in
            state.pods = byUID
            state.resourceVersion = version
            state.synced = true
            state.lists += 1
        }
        logger.debug("listed the node's pods", metadata: ["node": "\(nodeName)", "pods": "\(byUID.count)", "resourceVersion": "\(version)"])
        onChange()
    }

    private func apply(_ event: PodEvent) {
        let pod = event.pod
        guard let uid = pod.metadata.uid else { return }
        let relevant = state.withLock { state -> Bool in
            if let version = pod.metadata.resourceVersion { state.resourceVersion = version }
            let old = state.pods[uid]
            switch event {
            case .added, .modified:
                // A pod moved off this node (never happens to a bound pod) counts as deleted.
                guard pod.spec.nodeName == nodeName else {
                    state.pods[uid] = nil
                    return old != nil
                }
                let new = Self.marked(pod)
                state.pods[uid] = new
                return old.map { Self.mattersToAgent(old: $0, new: new) } ?? true
            case .deleted:
                state.pods[uid] = nil
                return old != nil
            }
        }
        if relevant { onChange() }
    }

    /// Status writes (ours) come back as MODIFIED events; the agent only needs to hear about
    /// changes that can change what it runs or what its downward API volumes show.
    private static func mattersToAgent(old: Pod, new: Pod) -> Bool {
        old.metadata.deletionTimestamp != new.metadata.deletionTimestamp
            || old.metadata.deletionGracePeriodSeconds != new.metadata.deletionGracePeriodSeconds
            || old.metadata.annotations != new.metadata.annotations
            || old.metadata.labels != new.metadata.labels
            || old.spec != new.spec
    }

    /// kubelet's config marks every pod with its source (kubernetes.io/config.source: api); a
    /// mirror pod keeps the "file" of its static pod.
    private static func marked(_ pod: Pod) -> Pod {
        guard !pod.isMirrorPod else { return pod }
        var pod = pod
        var annotations = pod.metadata.annotations ?? [:]
        annotations[PodSourceAnnotation.source] = "api"
        pod.metadata.annotations = annotations
        return pod
    }

    private func delay(_ failures: Int) -> Duration {
        var delay = backoffInitial
        for _ in 1..<max(failures, 1) where delay < backoffMax { delay = delay * 2 }
        return min(delay, backoffMax)
    }
}
