import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's CronJob controller (v2): at each time its schedule names, a
/// CronJob creates a Job from its `jobTemplate`, subject to `suspend`,
/// `startingDeadlineSeconds` and `concurrencyPolicy`; it tracks its running Jobs in
/// `status.active`, and deletes finished Jobs beyond its history limits.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/cronjob/cronjob_controllerv2.go
package struct CronJobController: Controller {
    package let name = "cronjob"
    static let component = "cronjob-controller"
    /// `batch.kubernetes.io/cronjob-scheduled-timestamp` on each Job created.
    static let scheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

    let client: any ResourceClient
    let cronJobs: Informer
    let jobs: Informer
    let queue = WorkQueue()
    let logger: Logger
    let clock: ControllerClock
    /// The zone of schedules without `timeZone`: upstream, the controller manager's own.
    let defaultTimeZone: TimeZone
    let workers: Int

    package init(client: any ResourceClient, informers: Informers, logger: Logger, workers: Int = 5,
                 clock: ControllerClock = .system, defaultTimeZone: TimeZone = .current) {
        self.client = client
        self.cronJobs = informers.informer(.cronJobs)
        self.jobs = informers.informer(.jobs)
        self.logger = logger
        self.clock = clock
        self.defaultTimeZone = defaultTimeZone
        self.workers = workers
        let this = self
        cronJobs.addHandler { event in this.enqueue(event.object) }
        jobs.addHandler { event in
            var involved = [event.object]
            if case .updated(let old, _) = event { involved.append(old) }
            for job in involved {
                if let cronJob = this.cronJobs.controller(of: job, kind: "CronJob") { this.enqueue(cronJob) }
            }
        }
    }

    package func run() async {
        await runWorkers(name: name, queue: queue, workers: workers, logger: logger) { key in
            try await sync(key)
        }
    }

    private func enqueue(_ cronJob: KubeObject) {
        let key = Informer.key(of: cronJob)
        Task { await queue.add(key) }
    }

    // MARK: - Sync

    /// `syncCronJob`.
    func sync(_ key: String) async throws {
        guard let cronJob = cronJobs.get(key: key), cronJob.deletionTimestamp == nil else { return }
        let now = clock.now()
        let owned = jobs.list(namespace: cronJob.namespace).filter { $0.controllerRef?.uid == cronJob.uid }
        var state = CronJobState(cronJob: cronJob, jobs: owned)
        state.reconcileActive()
        await deleteBeyondHistory(state.expiredJobs(), of: cronJob, state: &state)
        let requeueAt = await schedule(cronJob, state: &state, now: now)
        for event in state.events {
            await client.recordEvent(about: cronJob, type: event.type, reason: event.reason, message: event.message, component: Self.component)
        }
        try await client.writeStatus(state.status, of: cronJob, in: .cronJobs)
        if let requeueAt {
            // `nextScheduleTimeDuration`: a little after the next time, so it has passed.
            queue.add(key, after: .milliseconds(Int64(max(0, requeueAt.timeIntervalSince(now)) * 1000) + 100))
        }
    }

    /// The scheduling half of `syncCronJob`: whether a Job is due now, and when to look again.
    private func schedule(_ cronJob: KubeObject, state: inout CronJobState, now: Date) async -> Date? {
        if cronJob.value(at: ["spec", "suspend"])?.boolValue == true { return nil }
        let spec = cronJob.string(at: ["spec", "schedule"]) ?? ""
        let schedule: CronSchedule
        do {
            schedule = try CronSchedule(parsing: spec)
        } catch {
            state.event("Warning", "UnparseableSchedule", "unparseable schedule: \"\(spec)\" : \(error.message)")
            return nil
        }
        var zone = schedule.timeZone ?? defaultTimeZone
        if let name = cronJob.string(at: ["spec", "timeZone"]) {
            guard let named = TimeZone(identifier: name) else {
                state.event("Warning", "UnknownTimeZone", "invalid timeZone: \"\(name)\": unknown time zone \(name)")
                return nil
            }
            zone = named
        }
        let next = schedule.next(after: now, in: zone)
        let (scheduled, missed) = CronJobState.mostRecentScheduleTime(schedule, zone: zone, earliest: state.earliestTime(cronJob: cronJob, now: now), now: now)
        if missed > 100 {
            state.event("Warning", "TooManyMissedTimes",
                        "too many missed start times: \(missed). Set or decrease .spec.startingDeadlineSeconds or check clock skew")
        }
        guard let scheduled else { return next }
        if let deadline = cronJob.value(at: ["spec", "startingDeadlineSeconds"])?.intValue,
           scheduled.addingTimeInterval(TimeInterval(deadline)) < now {
            state.event("Warning", "MissSchedule", "Missed scheduled time to start a job: \(CronJobState.rfc1123Z(scheduled))")
            return next
        }
        let jobName = CronJobState.jobName(cronJob.name ?? "", scheduled: scheduled)
        if state.isActive(name: jobName) {
            // The Job of this time exists: made by an earlier sync whose status write was lost
            // (a conflict with a concurrent change of the CronJob), and listed again by
            // `reconcileActive`. Upstream returns without touching lastScheduleTime here, which
            // leaves it behind the Job it ran; record the time the Job stands for instead.
            if state.lastScheduleTime.map({ $0 < scheduled }) ?? true { state.lastScheduleTime = scheduled }
            return next
        }
        if state.lastScheduleTime == scheduled { return next }
        switch cronJob.string(at: ["spec", "concurrencyPolicy"]) {
        case "Forbid" where state.hasActive:
            state.event("Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
            return next
        case "Replace":
            for reference in state.activeReferences {
                let name = reference["name"]?.stringValue ?? ""
                do {
                    try await client.delete(.jobs, namespace: cronJob.namespace, name: name, propagationPolicy: "Background")
                    state.event("Normal", "SuccessfulDelete", "Deleted job \(name)")
                } catch {
                    // A 404: already gone.
                    if error.code != 404 {
                        state.event("Warning", "FailedDelete", "Deleted job: \(error.message)")
                        return next
                    }
                }
                state.removeActive(uid: reference["uid"]?.stringValue ?? "")
            }
        default:
            break
        }
        let job = CronJobState.job(from: cronJob, name: jobName, scheduled: scheduled, zone: zone)
        do {
            let created = try await client.create(.jobs, namespace: cronJob.namespace, job)
            state.event("Normal", "SuccessfulCreate", "Created job \(jobName)")
            state.addActive(created)
        } catch {
            // A 409: created by an earlier sync whose status write was lost; ours if it says so.
            let existing = error.code == 409 ? (try? await client.get(.jobs, namespace: cronJob.namespace, name: jobName)) ?? nil : nil
            guard let existing, existing.controllerRef?.uid == cronJob.uid else {
                state.event("Warning", "FailedCreate", "Error creating job: \(error.message)")
                return next
            }
            if JobState.finishedCondition(of: existing) == nil { state.addActive(existing) }
        }
        state.lastScheduleTime = scheduled
        return next
    }

    /// `cleanupFinishedJobs`: the oldest finished Jobs beyond the history limits go, their
    /// pods with them (background propagation).
    private func deleteBeyondHistory(_ expired: [KubeObject], of cronJob: KubeObject, state: inout CronJobState) async {
        for job in expired {
            do {
                try await client.delete(.jobs, namespace: job.namespace, name: job.name ?? "", propagationPolicy: "Background",
                                        preconditionUID: job.uid)
                state.event("Normal", "SuccessfulDelete", "Deleted job \(job.name ?? "")")
            } catch {
                // 404 and 409: gone, or another Job by that name now.
                if error.code != 404, error.code != 409 {
                    state.event("Warning", "FailedDelete", "Deleted job: \(error.message)")
                }
            }
        }
    }
}
