import Foundation
import KubeAPI
import Logging
import Runtime
import Synchronization

/// The node agent without a server: keeps the pods of the manifest directory running
/// (kubelet with only `staticPodPath`). Stopping the agent leaves pods running; a new agent
/// adopts them.
public final class Agent: Sendable {
    public let runtime: PodRuntime
    public let settings: AgentSettings
    public let statusStore: StatusStore
    let logger: Logger
    let source: StaticPodSource

    private struct Workers {
        var byUID: [String: PodWorker] = [:]
        var terminating: Set<String> = []
        var reported: Set<String> = []
    }
    private let workers = Mutex(Workers())
    private let lastLoop = Mutex(Date())

    public init(runtime: PodRuntime, settings: AgentSettings, logger: Logger = Logger(label: "swiftlet.agent")) {
        self.runtime = runtime
        self.settings = settings
        statusStore = StatusStore(directory: runtime.config.stateRoot + "/pod-status")
        self.logger = logger
        source = StaticPodSource(directory: settings.podManifests, nodeName: settings.nodeName)
    }

    /// Runs until the task is cancelled. Returns without stopping any pod.
    public func run() async throws {
        try FileManager.default.createDirectory(atPath: settings.podManifests, withIntermediateDirectories: true)
        if settings.healthzPort != 0 {
            let healthz = try HealthzServer(address: settings.healthzAddress, port: settings.healthzPort,
                                            maxLoopAge: max(settings.fileCheckFrequency.seconds * 3, 60),
                                            lastLoop: { [self] in lastLoop.withLock { $0 } })
            healthz.start()
            logger.info("healthz listening", metadata: ["address": "\(settings.healthzAddress):\(healthz.port)"])
        }
        // Pods a previous agent ran: adopt them; the first scan terminates those no longer wanted.
        for pod in statusStore.storedPods() { startWorker(pod) }
        let watcher = DirectoryWatcher(directory: settings.podManifests)
        var lastScan = Date.distantPast
        while !Task.isCancelled {
            let due = Date().timeIntervalSince(lastScan) >= settings.fileCheckFrequency.seconds
            let changed = await Self.waitForChange(watcher, due: due)
            if changed || Date().timeIntervalSince(lastScan) >= settings.fileCheckFrequency.seconds {
                sync()
                lastScan = Date()
            }
            lastLoop.withLock { $0 = Date() }
        }
    }

    /// Reads the manifests and starts or terminates pod workers to match.
    func sync() {
        let (desired, problems) = source.scan()
        for problem in problems {
            let key = problem.description
            let isNew = workers.withLock { $0.reported.insert(key).inserted }
            if isNew { logger.error("invalid static pod manifest", metadata: ["file": "\(problem.file)", "error": "\(problem.message)"]) }
        }
        writeProblems(problems)
        let current = workers.withLock { Set($0.byUID.keys) }
        for uid in current where desired[uid] == nil {
            let worker = workers.withLock { state -> PodWorker? in
                guard state.terminating.insert(uid).inserted else { return nil }
                return state.byUID[uid]
            }
            if let worker {
                logger.info("static pod removed, terminating", metadata: ["uid": "\(uid)"])
                worker.send(.terminate)
            }
        }
        // kubelet starts a new version of a static pod only when the old one (same namespace and
        // name, other uid) has terminated; the worker's end triggers another sync.
        let running = workers.withLock { state in state.byUID.values.map { ($0.pod.metadata.namespace, $0.pod.metadata.name) } }
        for (uid, pod) in desired where !current.contains(uid) {
            let busy = running.contains { $0.0 == pod.metadata.namespace && $0.1 == pod.metadata.name }
            if !busy { startWorker(pod) }
        }
    }

    private func startWorker(_ pod: Pod) {
        guard let uid = pod.metadata.uid else { return }
        let worker = PodWorker(pod: pod, runtime: runtime, settings: settings, statusStore: statusStore, logger: logger)
        let added = workers.withLock { state -> Bool in
            guard state.byUID[uid] == nil else { return false }
            state.byUID[uid] = worker
            return true
        }
        guard added else { return }
        logger.info("pod added", metadata: ["pod": "\(pod.metadata.namespace ?? "default")/\(pod.metadata.name ?? "")", "uid": "\(uid)"])
        Task { [self] in
            await worker.run()
            workers.withLock { state in
                state.byUID[uid] = nil
                state.terminating.remove(uid)
            }
            sync() // a replacement may have been waiting for this pod to end
        }
    }

    /// Problems go to a file too, so `swiftlet pods` can show them.
    private func writeProblems(_ problems: [StaticPodSource.Problem]) {
        let path = statusStore.directory + "/../manifest-errors"
        let text = problems.map { "\($0.file): \($0.message)\n" }.joined()
        let existing = try? String(contentsOfFile: path, encoding: .utf8)
        if existing != text { try? text.write(toFile: path, atomically: true, encoding: .utf8) }
    }

    /// Sleeps up to a second, waking early when the manifest directory changes.
    private static func waitForChange(_ watcher: DirectoryWatcher?, due: Bool) async -> Bool {
        if due { return true }
        guard let watcher else {
            try? await Task.sleep(for: .seconds(1))
            return false
        }
        return await BlockingCall.run { watcher.wait(timeout: .seconds(1)) }
    }
}
