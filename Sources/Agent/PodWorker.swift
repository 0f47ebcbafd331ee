import Foundation
import KubeAPI
import Logging
import Runtime
import Synchronization

/// One pod's life on this node, one event at a time (kubelet's pod worker and SyncPod, see
/// pkg/kubelet/pod_workers.go): create the sandbox, run init containers in order, start the
/// containers, restart them by restartPolicy with back-off, act on probe results, and on
/// termination stop everything gracefully and release what the pod held.
///
///   created ──▶ sandbox ──▶ init containers, in order ──▶ containers running ◀─┐
///                                                          │ exit / probe      │ restart
///                                                          ▼                   │ (back-off)
///                                                     decide by policy ────────┘
///   terminate (manifest removed, pod deleted in the API) ──▶ SIGTERM, grace, SIGKILL
///     ──▶ final status (terminal phase) ──▶ release ──▶ done
actor PodWorker {
    enum ProbeKind: String, Sendable { case liveness, readiness, startup }

    enum Event: Sendable {
        case sync
        case exited(name: String, attempt: Int)
        case probe(name: String, attempt: Int, kind: ProbeKind, success: Bool, message: String)
        case wake
        /// Stop the pod; `gracePeriod` overrides the spec's (a deletion's grace, kubelet's
        /// calculateEffectiveGracePeriod), nil keeps terminationGracePeriodSeconds.
        case terminate(gracePeriod: Int64?)
        /// The agent is stopping: stop watching the pod, leave it running (a new agent adopts it).
        case detach
        /// An image check or pull for a container's next start ended (`imageOutcomes`).
        case imagesArrived
        /// Time to read the pod's ConfigMaps and Secrets again and update its volumes.
        case refreshConfig
        /// The pod's labels or annotations changed in the API (`observe`): its downward API
        /// volumes are written again.
        case metadataChanged
        /// The API pod's ephemeral containers, now more than this worker has seen (`kubectl debug`).
        case ephemeralContainersAdded([EphemeralContainer])
    }

    let pod: Pod
    let runtime: PodRuntime
    let settings: AgentSettings
    let statusStore: StatusStore
    /// Sends statuses to the API server, when the agent has one.
    let statusManager: PodStatusManager?
    let logger: Logger
    let prober: Prober
    /// Images for the containers' starts: pull policy, pulls, pull secrets, use for image GC.
    let images: PodImages
    /// The pod's Events (kubelet's recorder: Created, Started, Killing, BackOff, Unhealthy...).
    let recorder: PodEventRecorder
    /// Where the local-path volume directories this agent makes are noted for removal.
    let localVolumes: LocalVolumeJanitor?
    /// The image IDs of the containers started and not yet removed, for image garbage
    /// collection (read from outside the actor).
    nonisolated let startedImageIDs = Mutex<Set<String>>([])
    /// The labels and annotations the API shows now (`pod` keeps those it started with):
    /// downward API volumes follow them, env vars keep what they started with, as in kubelet.
    nonisolated let observedMetadata: Mutex<PodLabelsAndAnnotations>
    /// Image checks and pulls that ended, not yet filed (`requestImage`, `.imagesArrived`).
    nonisolated let imageOutcomes = Mutex<[(String, ImageManager.Outcome)]>([])

    var sandbox: RunningSandbox?
    var slots: [String: ContainerSlot] = [:]
    let initOrder: [String]
    let appOrder: [String]
    /// Ephemeral containers in the order they were added; each starts once and never again.
    var ephemeralOrder: [String] = []
    /// How many ephemeral containers the pod has had in the API so far (`pod` keeps the spec
    /// the worker started with; ephemeral containers are the one part of a spec that grows).
    nonisolated let observedEphemeralCount: Mutex<Int>
    let startTime: Date
    var terminating = false
    var terminationGrace: Int64?
    /// Containers stopped for good: the phase is Succeeded or Failed from now on.
    var podTerminal = false
    var finished = false
    var podFailed = false
    var sandboxError: String?
    var conditionTimes: [String: Date] = [:]
    var lastStatus: PodStatus?
    /// The ConfigMaps and Secrets the pod refers to, as last read.
    var configObjects = PodConfigObjects.none
    /// The last FailedMount message recorded (repeats are not recorded again).
    var lastMountFailure: String?
    var configRefreshTask: Task<Void, Never>?
    /// The tokens of the pod's `serviceAccountToken` projections.
    var tokens = ServiceAccountTokens()

    private let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    init(pod: Pod, runtime: PodRuntime, settings: AgentSettings, statusStore: StatusStore,
         statusManager: PodStatusManager? = nil, images: PodImages, recorder: PodEventRecorder,
         localVolumes: LocalVolumeJanitor? = nil, logger: Logger) {
        self.pod = pod
        self.localVolumes = localVolumes
        observedMetadata = Mutex(PodLabelsAndAnnotations(pod))
        observedEphemeralCount = Mutex(pod.spec.ephemeralContainers?.count ?? 0)
        self.images = images
        self.recorder = recorder
        self.runtime = runtime
        self.settings = settings
        self.statusStore = statusStore
        self.statusManager = statusManager
        self.logger = logger
        prober = Prober(runtime: runtime)
        initOrder = (pod.spec.initContainers ?? []).map(\.name)
        appOrder = pod.spec.containers.map(\.name)
        for container in pod.spec.initContainers ?? [] {
            slots[container.name] = ContainerSlot(spec: container, kind: .initContainer, backoff: settings.backoff)
        }
        for container in pod.spec.containers {
            slots[container.name] = ContainerSlot(spec: container, kind: .app, backoff: settings.backoff)
        }
        startTime = statusStore.startTime(uid: pod.metadata.uid ?? "") ?? Date()
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
    }

    /// Queues an event; never blocks.
    nonisolated func send(_ event: Event) {
        continuation.yield(event)
    }

    var podDescription: String {
        "\(pod.metadata.name ?? "")_\(pod.metadata.namespace ?? "default")(\(pod.metadata.uid ?? ""))"
    }

    /// Runs until the pod has been terminated and released.
    func run() async {
        addEphemeralContainers(pod.spec.ephemeralContainers ?? [])
        recover()
        statusStore.savePod(pod, startTime: startTime)
        send(.sync)
        for await event in events {
            if case .detach = event {
                for name in allContainers { slots[name]?.cancelTasks() }
                configRefreshTask?.cancel()
                break
            }
            // Each event in a child task: the Swift runtime frees a task's stack slabs (where
            // its async frames live) only when the task ends, and this loop lives as long as
            // the pod. A start's or a termination's frames are tens of KiB (ContainerSlot and
            // Container are large values copied into them); kept by every pod's worker they
            // were about 100 KiB a pod, four fifths of the agent's heap growth with 100 pods.
            async let stepped: Void = step(event)
            await stepped
            if finished { break }
        }
        configRefreshTask?.cancel()
        continuation.finish()
    }

    /// One event handled, then the pod brought a step closer to its spec (or to its end), and
    /// its status published.
    private func step(_ event: Event) async {
        await handle(event)
        if !terminating { await reconcile() } else { await terminate() }
        publishStatus()
    }

    private func handle(_ event: Event) async {
        switch event {
        case .sync, .wake, .detach:
            break
        case .refreshConfig:
            await refreshConfig()
        case .ephemeralContainersAdded(let ephemeral):
            addEphemeralContainers(ephemeral)
            // The kubelet API (logs, the pod list) and a restarted agent know them by the saved pod.
            var saved = pod
            saved.spec.ephemeralContainers = ephemeral
            statusStore.savePod(saved, startTime: startTime)
        case .metadataChanged:
            // An adopted pod's objects are read by its first refresh: until then, read them
            // with the rewrite (writing from nothing read would report them missing).
            if configObjects.fromAPIServer { rewriteVolumes() } else { await refreshConfig() }
        case .imagesArrived:
            // Every outcome in by now, not just the one this event is for: containers whose
            // images were checked together start together (one event each would start the
            // first while the second waits behind it).
            let arrived = imageOutcomes.withLock { outcomes in
                let taken = outcomes
                outcomes = []
                return taken
            }
            for (name, outcome) in arrived {
                imageArrived(name, outcome)
            }
        case .terminate(let gracePeriod):
            terminating = true
            if let gracePeriod { terminationGrace = min(gracePeriod, terminationGrace ?? gracePeriod) }
        case .exited(let name, let attempt):
            guard var slot = slots[name], let current = slot.current, current.attempt == attempt else { return }
            let exit = await current.wait()
            slot.cancelTasks()
            slot.exitBeforeLast = slot.lastExit
            slot.lastExit = exit
            slot.previous = current
            slot.current = nil
            slot.ready = false
            slots[name] = slot
            logger.info("container exited", metadata: [
                "pod": "\(podDescription)", "container": "\(name)", "exitCode": "\(exit.exitCode)", "reason": "\(exit.reason)",
            ])
        case .probe(let name, let attempt, let kind, let success, let message):
            guard var slot = slots[name], let current = slot.current, current.attempt == attempt else { return }
            logger.info("\(kind.rawValue) probe \(success ? "succeeded" : "failed")", metadata: [
                "pod": "\(podDescription)", "container": "\(name)", "probeResult": "\(success ? "success" : message)",
            ])
            switch kind {
            case .readiness:
                slot.ready = success
                slots[name] = slot
            case .startup where success:
                slot.started = true
                slot.ready = slot.spec.readinessProbe == nil
                slots[name] = slot
                startProbes(name, kinds: [.liveness, .readiness])
            case .liveness, .startup:
                record("Normal", "Killing", "Container \(name) failed \(kind.rawValue) probe, will be restarted", container: name)
                let grace = slot.spec.livenessProbe?.terminationGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30
                await runtime.stop(current, gracePeriod: grace)
            }
        }
    }

    /// Every container of the pod: init, app, then ephemeral ones.
    var allContainers: [String] { initOrder + appOrder + ephemeralOrder }

    /// Gives each ephemeral container not known yet a slot; the next reconcile starts it.
    /// Those already there never change (the API refuses changes to them).
    func addEphemeralContainers(_ containers: [EphemeralContainer]) {
        for ephemeral in containers where slots[ephemeral.name] == nil {
            slots[ephemeral.name] = ContainerSlot(ephemeral: ephemeral, backoff: settings.backoff)
            ephemeralOrder.append(ephemeral.name)
        }
    }

    /// Records an Event about the pod, or about its container `name` (with kubelet's field
    /// path, so `kubectl describe pod` shows which container it concerns).
    func record(_ type: String, _ reason: String, _ message: String, container name: String? = nil) {
        recorder.record(PodEventRecord(namespace: pod.metadata.namespace ?? "default", podName: pod.metadata.name ?? "",
                                       podUID: pod.metadata.uid ?? "", fieldPath: name.map(fieldPath), type: type,
                                       reason: reason, message: message))
    }

    /// Starts the probe loops of a container's current start.
    func startProbes(_ name: String, kinds: [ProbeKind]) {
        guard var slot = slots[name], let current = slot.current, let sandbox else { return }
        for kind in kinds {
            let probe: Probe?
            switch kind {
            case .liveness: probe = slot.spec.livenessProbe
            case .readiness: probe = slot.spec.readinessProbe
            case .startup: probe = slot.spec.startupProbe
            }
            guard let probe else { continue }
            slot.probes.append(ProbeLoop(probe: probe, kind: kind, container: current, spec: slot.spec, sandbox: sandbox,
                                         prober: prober, worker: self).start())
        }
        slots[name] = slot
    }

    /// Sends `.wake` at `date` (the end of a back-off).
    func scheduleWake(_ name: String, at date: Date) {
        slots[name]?.wakeTimer?.cancel()
        let delay = max(date.timeIntervalSinceNow, 0)
        slots[name]?.wakeTimer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int64(delay * 1000) + 10))
            if !Task.isCancelled { self?.send(.wake) }
        }
    }

    /// Watches a start of a container until it exits.
    func watchExit(_ running: RunningContainer) {
        Task { [weak self] in
            _ = await running.wait()
            self?.send(.exited(name: running.name, attempt: running.attempt))
        }
    }

    /// The status as last published, for the agent's status file and the API server.
    func currentStatus() -> PodStatus? { lastStatus }

    private func publishStatus() {
        let started = Set(slots.values.flatMap { [$0.current?.imageID, $0.previous?.imageID] }.compactMap { $0 })
        startedImageIDs.withLock { $0 = started }
        guard !finished else { return }
        let status = buildStatus()
        guard status != lastStatus else { return }
        lastStatus = status
        statusStore.saveStatus(status, uid: pod.metadata.uid ?? "")
        statusManager?.setStatus(status, for: pod)
    }
}
