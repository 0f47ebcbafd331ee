import Foundation
import KubeAPI
import Logging
import Runtime
import Synchronization

/// The node agent: keeps the pods of the manifest directory running (kubelet's
/// `staticPodPath`) and, given a `PodSyncConfig`, the pods the API server binds to this node,
/// reporting their status and mirroring the static pods into the API. Stopping the agent
/// leaves pods running; a new agent adopts them.
public final class Agent: Sendable {
    public let runtime: PodRuntime
    public let settings: AgentSettings
    public let statusStore: StatusStore
    let logger: Logger
    let source: StaticPodSource
    /// Present with an API server: pods bound to the node, status updates, mirror pods.
    public let apiSource: APIPodSource?
    public let statusManager: PodStatusManager?
    public let mirrorPods: MirrorPods?
    /// Pull policy, pulls and their back-off (kubelet's image manager).
    public let imageManager: ImageManager
    /// Image garbage collection and the node's list of images.
    public let imageGC: ImageGCManager
    /// The agent's Events (image pulls), sent to the API when there is one.
    public let events: PodEventRecorder
    /// Removes the local-path volume directories this agent made once their volume is gone.
    let localVolumes: LocalVolumeJanitor
    private let apiChanges: AsyncStream<Void>

    private struct Workers {
        var byUID: [String: PodWorker] = [:]
        var terminating: Set<String> = []
        var reported: Set<String> = []
        /// API pods marked for deletion whose worker has ended: not started again while the
        /// API still shows them (until the status manager's delete comes back through the watch).
        var ended: Set<String> = []
        /// `run` has returned: no more syncs (workers left behind must not start new ones).
        var stopped = false
    }
    private let workers = Mutex(Workers())
    private let lastLoop = Mutex(Date())
    /// What `writeProblems` last wrote.
    private let writtenProblems = Mutex<String?>(nil)
    /// One sync at a time: a sync compares what should run with what runs, and two interleaved
    /// ones could each act on the other's half-applied view.
    private let syncLock = Mutex(())

    /// - Parameter imagePuller: pulls images from registries; without one, containers can use
    ///   only images already in the store (imported), whatever their pull policy.
    public init(runtime: PodRuntime, settings: AgentSettings, podSync: PodSyncConfig? = nil,
                imagePuller: (any ImagePuller)? = nil, logger: Logger = Logger(label: "swiftlet.agent")) {
        self.runtime = runtime
        self.settings = settings
        statusStore = StatusStore(directory: runtime.config.stateRoot + "/pod-status")
        self.logger = logger
        events = PodEventRecorder(api: podSync?.api, logger: logger)
        localVolumes = LocalVolumeJanitor(stateRoot: runtime.config.stateRoot, logger: logger)
        imageManager = ImageManager(store: runtime.images, puller: imagePuller, settings: settings.images,
                                    backoffInitial: settings.backoffInitial, backoffMax: settings.backoffMax,
                                    events: events, logger: logger)
        let inUse = LateBinding<@Sendable () -> Set<String>>()
        imageGC = ImageGCManager(store: runtime.images, settings: settings.images, logger: logger,
                                 inUse: { inUse.value?() ?? [] })
        source = StaticPodSource(directory: settings.podManifests, nodeName: settings.nodeName)
        let (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        apiChanges = changes
        if let podSync {
            apiSource = APIPodSource(api: podSync.api, nodeName: settings.nodeName,
                                     backoffInitial: podSync.relistBackoffInitial, backoffMax: podSync.relistBackoffMax,
                                     logger: logger, onChange: { changed.yield() })
            let statusManager = PodStatusManager(api: podSync.api, nodeIPs: podSync.nodeIPs, coalesce: podSync.statusCoalesce,
                                                 retryInitial: podSync.statusRetryInitial, retryMax: podSync.statusRetryMax,
                                                 logger: logger)
            self.statusManager = statusManager
            mirrorPods = MirrorPods(api: podSync.api, nodeName: settings.nodeName, nodeUID: podSync.nodeUID,
                                    statusManager: statusManager, retryInterval: podSync.mirrorRetryInterval, logger: logger)
        } else {
            apiSource = nil
            statusManager = nil
            mirrorPods = nil
            changed.finish()
        }
        inUse.set { [weak self] in self?.imagesInUse() ?? [] }
    }

    /// The images this node's pods use: every container's image as the spec names it, and the
    /// image IDs of the containers started (running or exited and not yet removed), so a tag
    /// that moved on does not free the image a container still runs on.
    func imagesInUse() -> Set<String> {
        let current = workers.withLock { state in Array(state.byUID.values) }
        var references = Set<String>()
        for worker in current {
            for container in (worker.pod.spec.initContainers ?? []) + worker.pod.spec.containers {
                if let image = container.image { references.insert(image) }
            }
            for imageID in worker.startedImageIDs.withLock({ $0 }) { references.insert(imageID) }
        }
        return references
    }

    /// The worker of the pod `namespace/name` (with that `uid`, when given), if one runs here.
    func worker(namespace: String, name: String, uid: String?) -> PodWorker? {
        workers.withLock { state in
            state.byUID.first { key, worker in
                (worker.pod.metadata.namespace ?? "default") == namespace && worker.pod.metadata.name == name
                    && (uid == nil || key == uid)
            }?.value
        }
    }

    /// Limits the pods' parent group to node allocatable (kubelet's default enforcement). A
    /// failure is logged, not fatal: pods still run, only without the node-wide cap.
    private func enforceNodeAllocatable() {
        let parent = runtime.config.cgroupParent
        do {
            let host = LinuxNodeHost(dataDirectory: runtime.config.stateRoot, imageDirectory: runtime.config.imageRoot)
            let applied = try NodeAllocatableCgroup.enforce(on: runtime.cgroups, parent: parent, machine: try host.machineInfo(),
                                                            node: settings.node)
            logger.info("node allocatable enforced on the pods' cgroup", metadata: [
                "cgroup": "\(parent)", "memoryBytes": "\(applied.memoryLimitBytes ?? 0)", "cpuMillis": "\(applied.cpuRequestMillis ?? 0)",
                "pids": "\(applied.pidsLimit.map(String.init) ?? "max")",
            ])
        } catch {
            logger.error("cannot enforce node allocatable on the pods' cgroup \(parent): \(error)")
        }
    }

    /// Runs until the task is cancelled. Returns without stopping any pod. Call it once per
    /// agent (a restarted agent is a new `Agent` on the same directories).
    public func run() async throws {
        try FileManager.default.createDirectory(atPath: settings.podManifests, withIntermediateDirectories: true)
        if settings.enforceNodeAllocatable { enforceNodeAllocatable() }
        if settings.healthzPort != 0 {
            let healthz = try HealthzServer(address: settings.healthzAddress, port: settings.healthzPort,
                                            maxLoopAge: max(settings.fileCheckFrequency.seconds * 3, 60),
                                            lastLoop: { [self] in lastLoop.withLock { $0 } })
            healthz.start()
            logger.info("healthz listening", metadata: ["address": "\(settings.healthzAddress):\(healthz.port)"])
        }
        // Pods a previous agent ran: adopt them; the first scan terminates those no longer wanted
        // (API pods: once the first list has shown which still exist).
        for pod in statusStore.storedPods() { startWorker(pod) }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.events.run() }
            group.addTask { await self.imageGC.run() }
            group.addTask { await MemoryScavenger().run() }
            if let apiSource, let statusManager, let mirrorPods {
                group.addTask { await apiSource.run() }
                group.addTask { await statusManager.run() }
                group.addTask { await mirrorPods.run() }
                group.addTask { [self] in await localVolumes.run(api: apiSource.api, every: settings.configSyncPeriod) }
                // A change in the API is acted on at once, not at the next file check.
                group.addTask { [self] in
                    for await _ in apiChanges { sync() }
                }
            }
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
            group.cancelAll()
        }
        // The pods keep running; their workers stop watching them (in a process that goes on,
        // such as a test, they would otherwise outlive the agent).
        let left = workers.withLock { state in
            state.stopped = true
            return Array(state.byUID.values)
        }
        for worker in left { worker.send(.detach) }
    }

    /// Reads the manifests and the API's pods and starts or terminates pod workers to match.
    func sync() {
        syncLock.withLock { _ in
            guard !workers.withLock({ $0.stopped }) else { return }
            syncLocked()
        }
    }

    private func syncLocked() {
        let (staticPods, problems) = source.scan()
        for problem in problems {
            let key = problem.description
            let isNew = workers.withLock { $0.reported.insert(key).inserted }
            if isNew { logger.error("invalid static pod manifest", metadata: ["file": "\(problem.file)", "error": "\(problem.message)"]) }
        }
        writeProblems(problems)
        var desired = staticPods
        let current = workers.withLock { state in state.byUID.mapValues(\.pod) }
        let api = apiSource?.snapshot()
        // API pods marked for deletion (deletionTimestamp): terminated, then deleted by the status manager.
        var deleting: [String: Pod] = [:]
        if let api {
            if api.synced {
                for (uid, pod) in api.pods {
                    if pod.metadata.deletionTimestamp == nil { desired[uid] = pod } else { deleting[uid] = pod }
                }
                workers.withLock { state in state.ended.formIntersection(api.pods.keys) }
            } else {
                // Before the first list, absence from the API means nothing: adopted API pods stay.
                for (uid, pod) in current where pod.isAPIPod { desired[uid] = pod }
            }
        }
        for uid in current.keys where desired[uid] == nil {
            terminate(uid, deletedPod: deleting[uid], wasStatic: current[uid]?.isStaticPod ?? false)
        }
        // kubelet starts a new version of a static pod only when the old one (same namespace and
        // name, other uid) has terminated; the worker's end triggers another sync. Pods from the
        // API are told apart by uid alone: a new uid under an old name is a new pod.
        let running = workers.withLock { state in state.byUID.values.map(\.pod).filter(\.isStaticPod).map(\.namespacedName) }
        for (uid, pod) in desired where current[uid] == nil {
            if pod.isStaticPod && running.contains(pod.namespacedName) { continue }
            startWorker(pod)
        }
        // A pod deleted in the API that runs nowhere here (deleted before it started, or while no
        // agent ran) still gets a worker that terminates at once, so its final status is written
        // and its object removed, as kubelet does.
        for (uid, pod) in deleting where current[uid] == nil {
            guard workers.withLock({ !$0.ended.contains(uid) }) else { continue }
            statusManager?.deleteWhenTerminated(uid: uid)
            startWorker(pod, terminateWith: pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30)
        }
        // Running API pods take their current labels and annotations (downward API volumes).
        let live = workers.withLock { state in state.byUID }
        for (uid, pod) in desired where current[uid] != nil && pod.isAPIPod { live[uid]?.observe(pod) }
        if let mirrorPods, let api {
            let statics = workers.withLock { state in
                state.byUID.compactMap { uid, worker -> MirrorPods.StaticPod? in
                    worker.pod.isStaticPod ? MirrorPods.StaticPod(pod: worker.pod, terminating: state.terminating.contains(uid)) : nil
                }
            }
            mirrorPods.update(staticPods: statics, mirrors: api.mirrors, synced: api.synced)
        }
    }

    /// Stops a pod that is no longer wanted: its manifest was removed, it vanished from the API,
    /// or the API marked it for deletion (then with the deletion's grace, if shorter).
    private func terminate(_ uid: String, deletedPod: Pod?, wasStatic: Bool) {
        let worker = workers.withLock { state -> PodWorker? in
            guard state.terminating.insert(uid).inserted else { return nil }
            return state.byUID[uid]
        }
        guard let worker else { return }
        let reason = wasStatic ? "static pod removed" : deletedPod != nil ? "pod deleted in the API" : "pod no longer bound to this node"
        logger.info("\(reason), terminating", metadata: ["uid": "\(uid)", "pod": "\(worker.pod.namespacedName)"])
        if deletedPod != nil { statusManager?.deleteWhenTerminated(uid: uid) }
        worker.send(.terminate(gracePeriod: deletedPod?.metadata.deletionGracePeriodSeconds))
    }

    private func startWorker(_ pod: Pod, terminateWith grace: Int64? = nil) {
        guard let uid = pod.metadata.uid else { return }
        let worker = PodWorker(pod: pod, runtime: runtime, settings: settings, statusStore: statusStore,
                               statusManager: statusManager,
                               images: PodImages(manager: imageManager, api: apiSource?.api, gc: imageGC, logger: logger),
                               recorder: events, localVolumes: localVolumes, logger: logger)
        let added = workers.withLock { state -> Bool in
            guard state.byUID[uid] == nil else { return false }
            state.byUID[uid] = worker
            if grace != nil { state.terminating.insert(uid) }
            return true
        }
        guard added else { return }
        logger.info("pod added", metadata: ["pod": "\(pod.namespacedName)", "uid": "\(uid)"])
        // Queued before the worker's first sync, so it never starts a container.
        if let grace { worker.send(.terminate(gracePeriod: grace)) }
        // Not `pod` itself: the task's context lives as long as the pod, and a Pod is over a KiB.
        let isAPIPod = pod.isAPIPod
        Task { [self] in
            await worker.run()
            workers.withLock { state in
                state.byUID[uid] = nil
                state.terminating.remove(uid)
                if isAPIPod { state.ended.insert(uid) }
            }
            sync() // a replacement may have been waiting for this pod to end
        }
    }

    /// Problems go to a file too, so `swiftlet pods` can show them.
    private func writeProblems(_ problems: [StaticPodSource.Problem]) {
        let path = statusStore.directory + "/../manifest-errors"
        let text = problems.map { "\($0.file): \($0.message)\n" }.joined()
        // Compared with what this agent last wrote, not read back at every sync: Foundation's
        // whole-file read of an empty file keeps its 4 KiB buffer (swift-foundation's
        // readBytesFromFile), which leaked 4 KiB a sync, 17 MiB a day on an idle node.
        guard writtenProblems.withLock({ $0 }) != text else { return }
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        writtenProblems.withLock { $0 = text }
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
