import Foundation
import Images
import KubeAPI
import Runtime

extension PodWorker {
    /// After an agent restart: adopt the sandbox and the containers a previous agent started.
    /// A container still running keeps running (same process); one that exited meanwhile is
    /// known by the exit its monitor recorded.
    func recover() {
        guard let sandbox = runtime.openSandbox(for: pod) else { return }
        self.sandbox = sandbox
        let found = runtime.reattachContainers(in: sandbox)
        for name in allContainers {
            guard var slot = slots[name] else { continue }
            let starts = found.filter { $0.name == name }.sorted { $0.attempt < $1.attempt }
            guard let latest = starts.last else { continue }
            slot.starts = latest.attempt + 1
            slot.waitingReason = nil
            // Older starts only held disk space and an empty cgroup.
            for old in starts.dropLast() { Task { await runtime.removeContainer(old) } }
            if case .monitored = latest.process {
                slot.current = latest
                slot.started = slot.spec.startupProbe == nil
                slot.ready = slot.started && slot.spec.readinessProbe == nil
                slots[name] = slot
                watchExit(latest)
                startProbes(name, kinds: slot.spec.startupProbe == nil ? [.liveness, .readiness] : [.startup])
            } else {
                // Exited while no agent ran: its exit is on disk and the exit task resolves at
                // once; the `.exited` event files it like any other exit.
                slot.current = latest
                slots[name] = slot
                send(.exited(name: name, attempt: latest.attempt))
            }
        }
        // The env of exec probes and later starts needs the pod's objects: read them at once.
        startConfigRefresh()
        send(.refreshConfig)
        logger.info("pod recovered after restart", metadata: ["pod": "\(podDescription)", "containers": "\(found.count)"])
    }

    /// The containers a new sandbox starts first: the first init container, else the app
    /// containers (they start together).
    var firstContainers: [String] { initOrder.isEmpty ? appOrder : [initOrder[0]] }

    /// Brings the pod one step closer to its spec (kubelet's computePodActions + SyncPod).
    func reconcile() async {
        guard !podFailed else { return }
        if sandbox == nil {
            // The images of the containers that start first are checked (or pulled) while the
            // sandbox is made: kubelet does it after the sandbox, but the two are independent,
            // and the check (the store's files, read on a thread) was a step of its own between
            // the sandbox and the first container.
            for name in firstContainers where slots[name]?.readyImage == nil {
                requestImage(name)
            }
            // kubelet's WaitForAttachAndMount: no sandbox until the volumes' objects exist.
            guard await volumesReady() else { return }
            do {
                // Off the cooperative pool, as container starts are: namespaces, the pod's
                // veth and address, cgroups in every v1 hierarchy and its files are tens of
                // blocking syscalls, and the pool has one thread per core for the whole
                // process (the API server's handlers too, under `swiftlet server`). Events
                // wait meanwhile: the worker handles one at a time.
                let runtime = self.runtime, pod = self.pod, objects = configObjects
                let firstStarts = firstContainers.compactMap { name in slots[name].map { (name: name, attempt: $0.starts) } }
                let made: Result<RunningSandbox, Error> = await BlockingCall.run(stackSize: 1 << 20) {
                    Result { try runtime.createSandbox(for: pod, objects: objects, firstStarts: firstStarts) }
                }
                sandbox = try made.get()
                sandboxError = nil
                startConfigRefresh()
            } catch RuntimeError.volume(let volume, let message) {
                // A payload the writer refuses (a hostile item path): kubelet's FailedMount.
                failedMount(volume, message)
                return
            } catch {
                if sandboxError != "\(error)" {
                    record("Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: \(error)")
                }
                sandboxError = "\(error)"
                scheduleWake(appOrder.first ?? "", at: Date().addingTimeInterval(10))
                return
            }
        }
        // kubelet's SyncPod starts ephemeral containers before init containers, "to allow
        // running ephemeral containers even when there are errors starting an init container".
        let ephemeral = ephemeralOrder.filter { name in
            slots[name].map { !$0.isRunning && $0.imageTask == nil && $0.lastExit == nil } ?? false
        }
        if !ephemeral.isEmpty, !podTerminal { await start(ephemeral) }
        let policy = pod.spec.restartPolicy ?? "Always"
        for name in initOrder {
            guard let slot = slots[name] else { continue }
            if slot.isRunning || slot.imageTask != nil { return }
            guard let exit = slot.lastExit else {
                await start(name)
                return
            }
            if exit.exitCode == 0 { continue }
            // A failed init container fails the pod under Never, else it is retried.
            if policy == "Never" {
                podFailed = true
                return
            }
            await restartWithBackoff(name)
            return
        }
        var firstStarts: [String] = []
        for name in appOrder {
            guard let slot = slots[name], !slot.isRunning, slot.imageTask == nil else { continue }
            guard let exit = slot.lastExit else {
                firstStarts.append(name)
                continue
            }
            let restart = policy == "Always" || (policy == "OnFailure" && exit.exitCode != 0)
            if restart { await restartWithBackoff(name) }
        }
        // A pod's containers start together (kubelet starts them one by one; nothing in
        // Kubernetes orders them, and starting them at once saves the pod's start time).
        await start(firstStarts)
    }

    /// Restarts a container unless it is in its back-off, which then shows as CrashLoopBackOff.
    private func restartWithBackoff(_ name: String) async {
        guard var slot = slots[name], let exit = slot.lastExit else { return }
        if slot.startPending {
            // The restart was decided already and waits for its image: no second back-off.
            await start(name)
            return
        }
        let now = Date()
        if let until = slot.backoff.waitUntil(exitedAt: exit.finishedAt, now: now) {
            let message = "back-off \(slot.backoff.currentDelay.goString) restarting failed container=\(name) pod=\(podDescription)"
            if slot.waitingMessage != message {
                // kubelet logs the waiting message ("Error syncing pod ... CrashLoopBackOff:
                // back-off 2s restarting failed container=...") and records a BackOff Event,
                // once per back-off (the Event's message counts up on repeats).
                logger.info("\(message)", metadata: ["pod": "\(podDescription)", "container": "\(name)", "reason": "CrashLoopBackOff"])
                record("Warning", "BackOff", "Back-off restarting failed container \(name) in pod \(podDescription)", container: name)
            }
            slot.waitingReason = "CrashLoopBackOff"
            slot.waitingMessage = message
            slots[name] = slot
            scheduleWake(name, at: until)
            return
        }
        slot.backoff.recordRestart(exitedAt: exit.finishedAt, now: now)
        slots[name] = slot
        await start(name)
    }

    /// Starts the next attempt of a container. A start that fails (missing image, missing
    /// binary) counts as a start that ended: containerd reports it as a terminated container
    /// with reason StartError, and it goes through back-off like a crash.
    func start(_ name: String) async {
        await start([name])
    }

    /// Starts several containers at once: the slots are prepared here, the starts run in
    /// parallel off the actor (each is a few milliseconds of syscalls), the results are filed here.
    func start(_ names: [String]) async {
        guard let sandbox, !names.isEmpty else { return }
        var plans: [(name: String, spec: Container, attempt: Int, logPath: String, image: Image, targetPID: Int32?)] = []
        for name in names {
            guard var slot = slots[name] else { continue }
            guard let image = slot.readyImage else {
                // kubelet's EnsureImageExists comes first: the start happens when the image is in.
                slot.startPending = true
                slots[name] = slot
                requestImage(name)
                continue
            }
            // kubelet's generateContainerConfig: a missing ConfigMap, Secret or key keeps the
            // container waiting (CreateContainerConfigError); the image stays ready for the retry.
            if let problem = await environmentProblem(name) {
                containerConfigFailed(name, problem)
                continue
            }
            slot = slots[name] ?? slot
            // An ephemeral container's target must be running: its PID namespace is joined.
            var targetPID: Int32?
            if let target = slot.targetContainerName, !target.isEmpty {
                targetPID = slots[target]?.current?.process.pid
                if targetPID == nil {
                    filed(name, .failure(RuntimeError.invalidContainer(name, "target container \"\(target)\" is not running")))
                    continue
                }
            }
            if let previous = slot.previous {
                // The previous start's directory and cgroup are not needed once the next one
                // begins (its exit is kept in the slot, its log in the log directory).
                await runtime.removeContainer(previous)
                slot.previous = nil
            }
            let attempt = slot.starts
            slot.starts += 1
            slots[name] = slot
            slot.readyImage = nil
            slot.startPending = false
            slots[name] = slot
            plans.append((name, slot.spec, attempt, logDirectory() + "/\(name)/\(attempt).log", image, targetPID))
        }
        let runtime = self.runtime
        let results = await withTaskGroup(of: (String, Result<RunningContainer, Error>).self) { group in
            for plan in plans {
                group.addTask {
                    // Off the cooperative pool: the first start of an imported image unpacks its
                    // layers, and every start is a few milliseconds of syscalls.
                    let result: Result<RunningContainer, Error> = await BlockingCall.run(stackSize: 1 << 20) {
                        Result {
                            try runtime.startContainer(plan.spec, attempt: plan.attempt, in: sandbox,
                                                       output: .monitored(logPath: plan.logPath), image: plan.image,
                                                       targetPID: plan.targetPID)
                        }
                    }
                    if case .success = result { await self.images.gc?.noteUsed(plan.image) }
                    return (plan.name, result)
                }
            }
            var all: [(String, Result<RunningContainer, Error>)] = []
            for await result in group { all.append(result) }
            return all
        }
        for (name, result) in results { filed(name, result) }
    }

    private func filed(_ name: String, _ result: Result<RunningContainer, Error>) {
        guard var slot = slots[name] else { return }
        switch result {
        case .success(let running):
            slot.current = running
            slot.waitingReason = nil
            slot.waitingMessage = nil
            slot.started = slot.spec.startupProbe == nil
            slot.ready = slot.started && slot.spec.readinessProbe == nil
            slots[name] = slot
            watchExit(running)
            startProbes(name, kinds: slot.spec.startupProbe == nil ? [.liveness, .readiness] : [.startup])
            // kuberuntime's startContainer: Created after CreateContainer, Started after
            // StartContainer; here one step does both (1.32's wording).
            record("Normal", "Created", "Created container: \(name)", container: name)
            record("Normal", "Started", "Started container \(name)", container: name)
        case .failure(let error):
            let now = Date()
            var exit = ContainerExit(status: ExitStatus(code: 128, signal: nil), oomKilled: false, startedAt: now, finishedAt: now)
            exit.reason = "StartError"
            exit.message = "\(error)"
            slot.exitBeforeLast = slot.lastExit
            slot.lastExit = exit
            slot.waitingReason = "CreateContainerError"
            slot.waitingMessage = "\(error)"
            slots[name] = slot
            record("Warning", "Failed", "Error: \(error)", container: name)
            // The next sync treats it like any exit: restartWithBackoff retries it after the
            // back-off (or the policy leaves it terminated).
            send(.wake)
        }
    }

    /// kubelet's pod log directory: /var/log/pods/<namespace>_<name>_<uid>.
    nonisolated func logDirectory() -> String {
        settings.logRoot + "/\(pod.metadata.namespace ?? "default")_\(pod.metadata.name ?? "")_\(pod.metadata.uid ?? "")"
    }

    /// Graceful stop of every container (in parallel, each with the pod's grace period, or the
    /// shorter one of a deletion), the final status, then release of everything the pod held.
    func terminate() async {
        let specGrace = pod.spec.terminationGracePeriodSeconds ?? 30
        let grace = min(terminationGrace ?? specGrace, specGrace)
        var running: [RunningContainer] = []
        var all: [RunningContainer] = []
        configRefreshTask?.cancel()
        for name in allContainers {
            slots[name]?.cancelTasks()
            if let current = slots[name]?.current { running.append(current); all.append(current) }
            if let previous = slots[name]?.previous { all.append(previous) }
        }
        // kubelet's killContainer: "Stopping container NAME" for each one still running.
        for container in running { record("Normal", "Killing", "Stopping container \(container.name)", container: container.name) }
        let runtime = self.runtime
        let exits = await withTaskGroup(of: (String, ContainerExit).self) { group in
            for container in running { group.addTask { (container.name, await runtime.stop(container, gracePeriod: grace)) } }
            var exits: [(String, ContainerExit)] = []
            for await exit in group { exits.append(exit) }
            return exits
        }
        // The final status shows every container terminated with how it ended, and a terminal
        // phase (kubelet's generateAPIPodStatus for a terminal pod).
        for (name, exit) in exits {
            guard var slot = slots[name] else { continue }
            slot.exitBeforeLast = slot.lastExit
            slot.lastExit = exit
            slot.previous = slot.current
            slot.current = nil
            slot.ready = false
            slot.waitingReason = nil
            slots[name] = slot
        }
        podTerminal = true
        let finalStatus = buildStatus()
        for container in all { await runtime.removeContainer(container) }
        if let sandbox {
            let runtime = self.runtime
            await BlockingCall.run(stackSize: 1 << 20) { runtime.removeSandbox(sandbox) }
        }
        statusStore.remove(uid: pod.metadata.uid ?? "")
        try? FileManager.default.removeItem(atPath: logDirectory())
        finished = true
        // Only now, with the containers and the sandbox gone, may the API object be removed.
        statusManager?.podTerminated(pod, finalStatus: finalStatus)
        logger.info("pod terminated", metadata: ["pod": "\(podDescription)", "gracePeriod": "\(grace)"])
    }
}
