import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// One sync of one CronJob: its Jobs, the `status.active` list kept true to them, the Jobs
/// past the history limits, the schedule arithmetic and the Job made from the template.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/cronjob/utils.go
struct CronJobState {
    struct Event: Equatable {
        let type: String
        let reason: String
        let message: String
    }

    let cronJob: KubeObject
    let jobs: [KubeObject]
    private var base: [String: JSONValue]
    var events: [Event] = []

    init(cronJob: KubeObject, jobs: [KubeObject]) {
        self.cronJob = cronJob
        self.jobs = jobs
        base = cronJob.value(at: ["status"])?.objectValue ?? [:]
    }

    mutating func event(_ type: String, _ reason: String, _ message: String) {
        events.append(Event(type: type, reason: reason, message: message))
    }

    var activeReferences: [JSONValue] { base["active"]?.arrayValue ?? [] }
    var hasActive: Bool { !activeReferences.isEmpty }

    func isActive(name: String) -> Bool { activeReferences.contains { $0["name"]?.stringValue == name } }

    var lastScheduleTime: Date? {
        get { base["lastScheduleTime"]?.stringValue.flatMap(Time.init(rfc3339:))?.date }
        set { base["lastScheduleTime"] = newValue.map { .string(Time($0).description) } }
    }

    mutating func addActive(_ job: KubeObject) {
        guard !activeReferences.contains(where: { $0["uid"]?.stringValue == job.uid }) else { return }
        let reference: JSONValue = .object([
            "kind": .string("Job"), "namespace": .string(job.namespace ?? ""), "name": .string(job.name ?? ""),
            "uid": .string(job.uid ?? ""), "apiVersion": .string("batch/v1"),
            "resourceVersion": .string(job.metadata["resourceVersion"]?.stringValue ?? ""),
        ])
        setActive(activeReferences + [reference])
    }

    mutating func removeActive(uid: String) {
        setActive(activeReferences.filter { $0["uid"]?.stringValue != uid })
    }

    private mutating func setActive(_ references: [JSONValue]) {
        base["active"] = references.isEmpty ? nil : .array(references)
    }

    /// The first part of `syncCronJob`: running Jobs the list lacks are added, finished ones
    /// removed (`SawCompletedJob`), vanished ones dropped (`MissingJob`), and the newest
    /// completion becomes `lastSuccessfulTime`.
    mutating func reconcileActive() {
        for job in jobs {
            let finished = JobState.finishedCondition(of: job)
            let listed = activeReferences.contains { $0["uid"]?.stringValue == job.uid }
            if finished == nil {
                if !listed, job.deletionTimestamp == nil { addActive(job) }
                continue
            }
            if listed {
                removeActive(uid: job.uid ?? "")
                event("Normal", "SawCompletedJob", "Saw completed job: \(job.name ?? ""), condition: \(finished?["type"]?.stringValue ?? "")")
            }
            if finished?["type"]?.stringValue == "Complete",
               let completed = job.string(at: ["status", "completionTime"]).flatMap(Time.init(rfc3339:)) {
                let last = base["lastSuccessfulTime"]?.stringValue.flatMap(Time.init(rfc3339:))?.date
                if last.map({ completed.date > $0 }) ?? true { base["lastSuccessfulTime"] = .string(completed.description) }
            }
        }
        let known = Set(jobs.compactMap(\.uid))
        for reference in activeReferences where !known.contains(reference["uid"]?.stringValue ?? "") {
            removeActive(uid: reference["uid"]?.stringValue ?? "")
            event("Normal", "MissingJob", "Active job went missing: \(reference["name"]?.stringValue ?? "")")
        }
    }

    /// Finished Jobs beyond `successfulJobsHistoryLimit` / `failedJobsHistoryLimit`, oldest first.
    func expiredJobs() -> [KubeObject] {
        func finished(_ type: String) -> [KubeObject] {
            jobs.filter { JobState.finishedCondition(of: $0)?["type"]?.stringValue == type && $0.deletionTimestamp == nil }
                .sorted { startTime($0) < startTime($1) }
        }
        func beyond(_ list: [KubeObject], _ key: String) -> [KubeObject] {
            guard let limit = cronJob.value(at: ["spec", key])?.intValue else { return [] }
            return Array(list.dropLast(Int(max(0, limit))))
        }
        return beyond(finished("Complete"), "successfulJobsHistoryLimit") + beyond(finished("Failed"), "failedJobsHistoryLimit")
    }

    private func startTime(_ job: KubeObject) -> Date {
        job.string(at: ["status", "startTime"]).flatMap(Time.init(rfc3339:))?.date ?? job.createdAt
    }

    /// Where to look for missed schedule times from: the last scheduled time (or creation),
    /// but no further back than `startingDeadlineSeconds`.
    func earliestTime(cronJob: KubeObject, now: Date) -> Date {
        var earliest = lastScheduleTime ?? cronJob.createdAt
        if let deadline = cronJob.value(at: ["spec", "startingDeadlineSeconds"])?.intValue {
            let limit = now.addingTimeInterval(-TimeInterval(deadline))
            if earliest < limit { earliest = limit }
        }
        return earliest
    }

    /// `mostRecentScheduleTime`: the latest schedule time in (earliest, now], and about how
    /// many were missed; found from the interval between the first two times rather than by
    /// walking every minute of a long outage, as upstream does.
    static func mostRecentScheduleTime(_ schedule: CronSchedule, zone: TimeZone, earliest: Date, now: Date) -> (Date?, Int) {
        guard let first = schedule.next(after: earliest, in: zone), first <= now else { return (nil, 0) }
        guard let second = schedule.next(after: first, in: zone), second <= now else { return (first, 1) }
        let interval = max(1, second.timeIntervalSince(first).rounded())
        let missed = Int(now.timeIntervalSince(first) / interval) + 1
        var candidate = first.addingTimeInterval(TimeInterval(max(0, missed - 2)) * interval)
        if candidate > now { candidate = first }
        var mostRecent = first
        var t = schedule.next(after: candidate.addingTimeInterval(-1), in: zone)
        while let time = t, time <= now {
            mostRecent = time
            t = schedule.next(after: time, in: zone)
        }
        return (mostRecent, missed)
    }

    /// `getJobName`: the CronJob's name and the scheduled time in minutes since the epoch, so
    /// one scheduled time makes at most one Job.
    static func jobName(_ cronJob: String, scheduled: Date) -> String {
        "\(cronJob)-\(Int64(scheduled.timeIntervalSince1970) / 60)"
    }

    /// `getJobFromTemplate2`: the template's labels, annotations and spec, the scheduled time
    /// annotation, and a controller reference to the CronJob.
    static func job(from cronJob: KubeObject, name: String, scheduled: Date, zone: TimeZone) -> KubeObject {
        let template = cronJob.value(at: ["spec", "jobTemplate"]) ?? .object([:])
        var metadata: [String: JSONValue] = ["name": .string(name)]
        metadata["namespace"] = cronJob.namespace.map { .string($0) }
        if let labels = template["metadata"]?["labels"], labels != .null { metadata["labels"] = labels }
        var annotations = template["metadata"]?["annotations"]?.objectValue ?? [:]
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        annotations[CronJobController.scheduledTimestampAnnotation] = .string(formatter.string(from: scheduled))
        metadata["annotations"] = .object(annotations)
        metadata["ownerReferences"] = .array([OwnerRef.controllerRef(to: cronJob)])
        return KubeObject(fields: [
            "apiVersion": .string("batch/v1"), "kind": .string("Job"),
            "metadata": .object(metadata), "spec": template["spec"] ?? .object([:]),
        ])
    }

    /// Go's `time.RFC1123Z` in UTC, as the MissSchedule event writes it.
    static func rfc1123Z(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    var status: JSONValue { .object(base) }
}
