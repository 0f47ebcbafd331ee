import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's Job controller: runs a Job's pods until `completions` of them
/// succeeded (at most `parallelism` at a time, one per index for an Indexed Job), fails it
/// past `backoffLimit` or `activeDeadlineSeconds`, and deletes a finished Job
/// `ttlSecondsAfterFinished` later (the ttl-after-finished controller's job).
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/job/job_controller.go
///
/// As in Kubernetes 1.32, a Job that met its success or failure criteria first gets the
/// interim `SuccessCriteriaMet` / `FailureTarget` condition, its remaining pods are deleted,
/// and `Complete` / `Failed` is added once none is left running.
/// Finished pods are counted from the pods that exist (the controller's accounting before
/// pod finalizers, KEP-2307): a finished pod deleted before its Job finished is not counted.
package struct JobController: Controller {
    package let name = "job"
    static let component = "job-controller"
    /// `DefaultJobPodFailureBackOff` and `MaxJobPodFailureBackOff`: a failed pod's
    /// replacement waits 10 s, doubling with each further failure, at most 10 minutes.
    static let maxPodFailureBackoff: Duration = .seconds(600)

    let client: any ResourceClient
    let jobs: Informer
    let pods: Informer
    let queue = WorkQueue()
    let expectations = ReplicaSetExpectations()
    let logger: Logger
    let clock: ControllerClock
    let podFailureBackoff: Duration
    let workers: Int

    package init(client: any ResourceClient, informers: Informers, logger: Logger, workers: Int = 5,
                 clock: ControllerClock = .system, podFailureBackoff: Duration = .seconds(10)) {
        self.client = client
        self.jobs = informers.informer(.jobs)
        self.pods = informers.informer(.pods)
        self.logger = logger
        self.clock = clock
        self.podFailureBackoff = podFailureBackoff
        self.workers = workers
        let this = self
        jobs.addHandler { event in
            if case .deleted(let job) = event { this.expectations.forget(Informer.key(of: job)) }
            this.enqueue(event.object)
        }
        pods.addHandler { event in this.podChanged(event) }
    }

    package func run() async {
        await runWorkers(name: name, queue: queue, workers: workers, logger: logger) { key in
            try await sync(key)
        }
    }

    private func enqueue(_ job: KubeObject) {
        let key = Informer.key(of: job)
        Task { await queue.add(key) }
    }

    private func owner(of pod: KubeObject) -> KubeObject? {
        jobs.controller(of: pod, kind: "Job")
    }

    /// Pod events settle expectations and sync the owning Job (orphans are left alone: a
    /// Job's generated selector names its own uid, so only a manual selector could adopt).
    private func podChanged(_ event: InformerEvent) {
        switch event {
        case .added(let pod):
            guard let job = owner(of: pod) else { return }
            if pod.deletionTimestamp != nil {
                expectations.deletionObserved(Informer.key(of: job), podKey: Informer.key(of: pod))
            } else {
                expectations.creationObserved(Informer.key(of: job))
            }
            enqueue(job)
        case .updated(let old, let pod):
            if let job = owner(of: pod) {
                if pod.deletionTimestamp != nil, old.deletionTimestamp == nil {
                    expectations.deletionObserved(Informer.key(of: job), podKey: Informer.key(of: pod))
                }
                enqueue(job)
            }
            if old.controllerRef != pod.controllerRef, let previous = owner(of: old) { enqueue(previous) }
        case .deleted(let pod):
            guard let job = owner(of: pod) else { return }
            expectations.deletionObserved(Informer.key(of: job), podKey: Informer.key(of: pod))
            enqueue(job)
        }
    }

    // MARK: - Sync

    /// `syncJob`.
    func sync(_ key: String) async throws {
        guard let job = jobs.get(key: key) else {
            expectations.forget(key)
            return
        }
        if job.deletionTimestamp != nil { return }
        let now = clock.now()
        if JobState.finishedCondition(of: job) != nil {
            try await expireIfDue(job, now: now)
            return
        }
        let needsSync = expectations.satisfied(key)
        let selector = try job.specSelector()
        let ownership = ReplicaSetOwnership(client: client, resource: .pods)
        let owned = try await ownership.claim(owner: job, selector: selector, candidates: pods.list(namespace: job.namespace)) { () throws(APIError) in
            let fresh = try await client.get(.jobs, namespace: job.namespace, name: job.name ?? "")
            return fresh?.uid == job.uid && fresh?.deletionTimestamp == nil
        }
        var state = JobState(job: job, pods: owned, now: now)
        var failure: Error?
        if needsSync {
            do {
                try await manage(&state, job: job, key: key, now: now)
            } catch {
                failure = error
            }
        }
        // Events first: what was done stays recorded even if the status write loses a race.
        for event in state.events {
            await client.recordEvent(about: job, type: event.type, reason: event.reason, message: event.message, component: Self.component)
        }
        let written = try await client.writeStatus(state.status, of: job, in: .jobs)
        if JobState.finishedCondition(of: written) != nil {
            try await expireIfDue(written, now: now)
        } else if let deadline = state.activeDeadline, deadline > now {
            // pastActiveDeadline is checked again when the deadline passes.
            queue.add(key, after: .seconds(deadline.timeIntervalSince(now)) + .milliseconds(50))
        }
        if let failure { throw failure }
    }

    /// Creations and deletions toward the Job's goal, and the conditions that finish it.
    private func manage(_ state: inout JobState, job: KubeObject, key: String, now: Date) async throws {
        let running = state.active
        if state.suspended {
            try await delete(running, of: job, key: key, state: &state)
            state.suspend(now: now)
            return
        }
        state.resume(now: now)
        if let finish = state.finishing(restartPolicy: job.string(at: ["spec", "template", "spec", "restartPolicy"]) ?? "") {
            state.setInterim(finish, now: now)
            try await delete(running, of: job, key: key, state: &state)
            if state.active.isEmpty, state.terminating == 0 { state.finish(finish, now: now) }
            return
        }
        // Extra pods (parallelism lowered, duplicates of an index) go first.
        let surplus = state.surplus()
        if !surplus.isEmpty {
            try await delete(surplus, of: job, key: key, state: &state)
            return
        }
        let wanted = state.podsToCreate()
        guard !wanted.isEmpty else { return }
        // A failed pod's replacement waits out the back-off (`getNewFinishedPods` / backoffRecord).
        if let wait = state.backoffRemaining(base: podFailureBackoff, cap: Self.maxPodFailureBackoff), wait > .zero {
            queue.add(key, after: wait + .milliseconds(50))
            return
        }
        try await create(wanted, for: job, key: key, state: &state)
    }

    private func create(_ indexes: [Int?], for job: KubeObject, key: String, state: inout JobState) async throws {
        expectations.expectCreations(key, count: indexes.count)
        var firstError: APIError?
        // `slowStartBatch` as the ReplicaSet controller does: 1, 2, 4, ... until one fails.
        var remaining = indexes[...]
        var batch = 1
        while !remaining.isEmpty, firstError == nil {
            let chunk = Array(remaining.prefix(batch))
            remaining = remaining.dropFirst(chunk.count)
            let results = await withTaskGroup(of: Result<KubeObject, APIError>.self) { group in
                for index in chunk {
                    group.addTask {
                        do throws(APIError) {
                            return .success(try await client.create(.pods, namespace: job.namespace, JobPods.fromTemplate(of: job, index: index)))
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                var results: [Result<KubeObject, APIError>] = []
                for await result in group { results.append(result) }
                return results
            }
            for result in results {
                switch result {
                case .success(let pod):
                    state.created(pod)
                    state.events.append(.init(type: "Normal", reason: "SuccessfulCreate", message: "Created pod: \(pod.name ?? "")"))
                case .failure(let error):
                    expectations.creationObserved(key)
                    if error.code == 403, error.message.contains("because it is being terminated") { continue }
                    state.events.append(.init(type: "Warning", reason: "FailedCreate", message: "Error creating: \(error.message)"))
                    firstError = firstError ?? error
                }
            }
            batch *= 2
        }
        if !remaining.isEmpty { expectations.creationObserved(key, count: remaining.count) }
        if let firstError { throw firstError }
    }

    private func delete(_ victims: [KubeObject], of job: KubeObject, key: String, state: inout JobState) async throws {
        guard !victims.isEmpty else { return }
        expectations.expectDeletions(key, podKeys: victims.map(Informer.key(of:)))
        let results = await withTaskGroup(of: (KubeObject, APIError?).self) { group in
            for pod in victims {
                group.addTask {
                    do throws(APIError) {
                        try await client.delete(.pods, namespace: pod.namespace, name: pod.name ?? "", preconditionUID: pod.uid)
                        return (pod, nil)
                    } catch {
                        return (pod, error)
                    }
                }
            }
            var results: [(KubeObject, APIError?)] = []
            for await result in group { results.append(result) }
            return results
        }
        var firstError: APIError?
        for (pod, error) in results {
            if let error {
                expectations.deletionObserved(key, podKey: Informer.key(of: pod))
                if error.code == 404 || error.code == 409 {
                    state.deleted(pod)
                    continue
                }
                state.events.append(.init(type: "Warning", reason: "FailedDelete", message: "Error deleting: \(error.message)"))
                firstError = firstError ?? error
            } else {
                state.deleted(pod)
                state.events.append(.init(type: "Normal", reason: "SuccessfulDelete", message: "Deleted pod: \(pod.name ?? "")"))
            }
        }
        if let firstError { throw firstError }
    }

    // MARK: - ttlSecondsAfterFinished

    /// The ttl-after-finished controller: a finished Job with `ttlSecondsAfterFinished` is
    /// deleted (foreground, so its pods go first) that long after it finished.
    /// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/ttlafterfinished/ttlafterfinished_controller.go
    private func expireIfDue(_ job: KubeObject, now: Date) async throws {
        guard let ttl = job.value(at: ["spec", "ttlSecondsAfterFinished"])?.intValue,
              let finished = JobState.finishedCondition(of: job),
              let finishedAt = finished["lastTransitionTime"]?.stringValue.flatMap(Time.init(rfc3339:))?.date else { return }
        let expiresAt = finishedAt.addingTimeInterval(TimeInterval(ttl))
        if expiresAt > now {
            queue.add(Informer.key(of: job), after: .seconds(expiresAt.timeIntervalSince(now)) + .milliseconds(50))
            return
        }
        var failure: APIError?
        do {
            try await client.delete(.jobs, namespace: job.namespace, name: job.name ?? "", propagationPolicy: "Foreground", preconditionUID: job.uid)
        } catch {
            // Gone already, or a different Job by that name now: nothing left to expire.
            if error.code != 404, error.code != 409 { failure = error }
        }
        if let failure { throw failure }
    }
}
