import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// One sync of one Job: its pods sorted by what they count for, the decisions of
/// `syncJob` (finished? how many pods to create or delete, for which indexes?) and the status
/// they produce. Pure logic over the Job and its pods, so it is tested without an API.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/job/job_controller.go
struct JobState {
    /// How a Job ends: the interim condition (`SuccessCriteriaMet` / `FailureTarget`) and the
    /// final one (`Complete` / `Failed`) carry the same reason and message.
    struct Finish: Equatable {
        let succeeded: Bool
        let reason: String
        let message: String

        var interimType: String { succeeded ? "SuccessCriteriaMet" : "FailureTarget" }
        var finalType: String { succeeded ? "Complete" : "Failed" }

        static let completionsReached = Finish(succeeded: true, reason: "CompletionsReached",
                                               message: "Reached expected number of succeeded pods")
        static let backoffLimitExceeded = Finish(succeeded: false, reason: "BackoffLimitExceeded",
                                                 message: "Job has reached the specified backoff limit")
        static let deadlineExceeded = Finish(succeeded: false, reason: "DeadlineExceeded",
                                             message: "Job was active longer than specified deadline")
    }

    struct Event: Equatable {
        let type: String
        let reason: String
        let message: String
    }

    let now: Date
    let indexed: Bool
    let completions: Int?
    let parallelism: Int
    let backoffLimit: Int64
    let suspended: Bool
    let activeDeadlineSeconds: Int64?
    private(set) var active: [KubeObject]
    private(set) var terminating: Int
    let succeededPods: [KubeObject]
    let failedPods: [KubeObject]
    /// Indexes in [0, completions) with a succeeded pod (Indexed Jobs).
    let succeededIndexes: Set<Int>
    /// `status.succeeded` and `status.failed`: never below what was reported before, so a
    /// finished pod removed by someone else still counts.
    let succeeded: Int64
    let failed: Int64
    private var base: [String: JSONValue]
    var events: [Event] = []

    init(job: KubeObject, pods: [KubeObject], now: Date) {
        self.now = now
        indexed = job.string(at: ["spec", "completionMode"]) == "Indexed"
        completions = job.value(at: ["spec", "completions"])?.intValue.map { Int($0) }
        parallelism = Int(job.int(at: ["spec", "parallelism"], default: 1))
        backoffLimit = job.int(at: ["spec", "backoffLimit"], default: 6)
        suspended = job.value(at: ["spec", "suspend"])?.boolValue == true
        activeDeadlineSeconds = job.value(at: ["spec", "activeDeadlineSeconds"])?.intValue
        active = pods.filter { !JobPods.isFinished($0) && $0.deletionTimestamp == nil }
        terminating = pods.filter { !JobPods.isFinished($0) && $0.deletionTimestamp != nil }.count
        succeededPods = pods.filter { $0.string(at: ["status", "phase"]) == "Succeeded" }
        failedPods = pods.filter { $0.string(at: ["status", "phase"]) == "Failed" }
        let limit = completions ?? 0
        succeededIndexes = Set(succeededPods.compactMap(JobPods.index(of:)).filter { $0 < limit })
        base = job.value(at: ["status"])?.objectValue ?? [:]
        let counted = indexed ? Int64(succeededIndexes.count) : Int64(succeededPods.count)
        succeeded = max(counted, base["succeeded"]?.intValue ?? 0)
        failed = max(Int64(failedPods.count), base["failed"]?.intValue ?? 0)
    }

    /// The Complete or Failed condition of a finished Job.
    static func finishedCondition(of job: KubeObject) -> JSONValue? {
        condition(in: job.value(at: ["status", "conditions"])?.arrayValue ?? [], "Complete")
            ?? condition(in: job.value(at: ["status", "conditions"])?.arrayValue ?? [], "Failed")
    }

    private static func condition(in conditions: [JSONValue], _ type: String) -> JSONValue? {
        conditions.first { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
    }

    private var conditions: [JSONValue] { base["conditions"]?.arrayValue ?? [] }

    private var startTime: Date? { base["startTime"]?.stringValue.flatMap(Time.init(rfc3339:))?.date }

    /// When `activeDeadlineSeconds` runs out, counted from `startTime`.
    var activeDeadline: Date? {
        guard !suspended, let start = startTime, let seconds = activeDeadlineSeconds else { return nil }
        return start.addingTimeInterval(TimeInterval(seconds))
    }


    /// Whether the Job met a criterion that ends it, in the order `syncJob` checks them: a
    /// condition already set, `backoffLimit` (failed pods, or container restarts with
    /// `restartPolicy: OnFailure`), `activeDeadlineSeconds`, then the completions.
    func finishing(restartPolicy: String) -> Finish? {
        if let target = Self.condition(in: conditions, "FailureTarget") {
            return Finish(succeeded: false, reason: target["reason"]?.stringValue ?? "", message: target["message"]?.stringValue ?? "")
        }
        if let met = Self.condition(in: conditions, "SuccessCriteriaMet") {
            return Finish(succeeded: true, reason: met["reason"]?.stringValue ?? "", message: met["message"]?.stringValue ?? "")
        }
        if failed > backoffLimit { return .backoffLimitExceeded }
        if restartPolicy == "OnFailure" {
            // `pastBackoffLimitOnFailure`: restarts of the running pods stand for failures.
            let restarts = active.reduce(0) { $0 + JobPods.restartCount($1) }
            if backoffLimit == 0 ? restarts > 0 : restarts >= backoffLimit { return .backoffLimitExceeded }
        }
        if let deadline = activeDeadline, deadline <= now { return .deadlineExceeded }
        if indexed {
            if let completions, succeededIndexes.count >= completions { return .completionsReached }
        } else if let completions {
            if succeeded >= completions { return .completionsReached }
        } else if succeeded > 0, active.isEmpty {
            // A work queue: done when one pod succeeded and the others have finished.
            return .completionsReached
        }
        return nil
    }

    /// Pods to delete before anything is created: beyond `parallelism` or the remaining
    /// completions, and, for an Indexed Job, a second pod of one index or a pod of an index
    /// already succeeded or out of range (`firstPendingIndexes` / `appendDuplicatedIndexPodsForRemoval`).
    func surplus() -> [KubeObject] {
        if indexed {
            var seen: Set<Int> = []
            var extra: [KubeObject] = []
            var kept: [KubeObject] = []
            for pod in active.sorted(by: { $0.createdAt < $1.createdAt }) {
                guard let index = JobPods.index(of: pod), index < (completions ?? 0), !succeededIndexes.contains(index),
                      seen.insert(index).inserted else {
                    extra.append(pod)
                    continue
                }
                kept.append(pod)
            }
            if kept.count > parallelism {
                // The highest indexes go, as upstream deletes from the end of the sorted list.
                let sorted = kept.sorted { (JobPods.index(of: $0) ?? 0) < (JobPods.index(of: $1) ?? 0) }
                extra += sorted.dropFirst(parallelism)
            }
            return extra
        }
        let excess = active.count - wantActive
        guard excess > 0 else { return [] }
        return Array(ReplicaSetPods.deletionOrder(active, ranks: [:]).prefix(excess))
    }

    /// `wantActive` of a non-indexed Job: parallelism, but no more than the completions left.
    private var wantActive: Int {
        guard let completions else { return succeeded > 0 ? 0 : parallelism }
        return max(0, min(parallelism, completions - Int(succeeded)))
    }

    /// The pods to create: nil entries for a non-indexed Job, the lowest pending indexes for
    /// an Indexed one.
    func podsToCreate() -> [Int?] {
        if indexed {
            let activeIndexes = Set(active.compactMap(JobPods.index(of:)))
            let room = parallelism - active.count
            guard room > 0 else { return [] }
            return Array((0..<(completions ?? 0)).lazy.filter { !succeededIndexes.contains($0) && !activeIndexes.contains($0) }
                .prefix(room).map { Optional($0) })
        }
        let missing = wantActive - active.count
        return missing > 0 ? Array(repeating: nil, count: missing) : []
    }

    /// How long a replacement for a failed pod must still wait: `base` doubled for each
    /// failure since the last success, capped, counted from the last failure.
    func backoffRemaining(base backoff: Duration, cap: Duration) -> Duration? {
        let lastSuccess = succeededPods.map(JobPods.finishedAt).max() ?? .distantPast
        let failures = failedPods.map(JobPods.finishedAt).filter { $0 > lastSuccess }
        guard let lastFailure = failures.max() else { return nil }
        var delay = backoff
        for _ in 1..<max(failures.count, 1) where delay < cap { delay = delay * 2 }
        if delay > cap { delay = cap }
        let remaining = lastFailure.addingTimeInterval(delay.seconds).timeIntervalSince(now)
        return remaining > 0 ? .milliseconds(Int64(remaining * 1000)) : nil
    }

    // MARK: - Changes

    mutating func created(_ pod: KubeObject) { active.append(pod) }

    mutating func deleted(_ pod: KubeObject) {
        active.removeAll { $0.uid == pod.uid }
        terminating += 1
    }

    mutating func setInterim(_ finish: Finish, now: Date) {
        addCondition(finish.interimType, reason: finish.reason, message: finish.message)
    }

    /// The final condition; a successful Job gets its `completionTime`.
    mutating func finish(_ finish: Finish, now: Date) {
        addCondition(finish.finalType, reason: finish.reason, message: finish.message)
        if finish.succeeded {
            base["completionTime"] = .string(Time(now).description)
            events.append(Event(type: "Normal", reason: "Completed", message: "Job completed"))
        } else {
            events.append(Event(type: "Warning", reason: finish.reason, message: finish.message))
        }
    }

    /// `spec.suspend`: no pods, the Suspended condition, and no startTime (a resumed Job's
    /// activeDeadlineSeconds counts from its resumption).
    mutating func suspend(now: Date) {
        base["startTime"] = nil
        if Self.condition(in: conditions, "Suspended") == nil {
            setCondition("Suspended", status: "True", reason: "JobSuspended", message: "Job suspended")
            events.append(Event(type: "Normal", reason: "Suspended", message: "Job suspended"))
        }
    }

    mutating func resume(now: Date) {
        if Self.condition(in: conditions, "Suspended") != nil {
            setCondition("Suspended", status: "False", reason: "JobResumed", message: "Job resumed")
            events.append(Event(type: "Normal", reason: "Resumed", message: "Job resumed"))
            base["startTime"] = .string(Time(now).description)
        }
        if base["startTime"] == nil { base["startTime"] = .string(Time(now).description) }
    }

    private mutating func addCondition(_ type: String, reason: String, message: String) {
        guard Self.condition(in: conditions, type) == nil else { return }
        setCondition(type, status: "True", reason: reason, message: message)
    }

    private mutating func setCondition(_ type: String, status: String, reason: String, message: String) {
        let time = JSONValue.string(Time(now).description)
        var list = conditions.filter { $0["type"]?.stringValue != type }
        list.append(.object(["type": .string(type), "status": .string(status), "reason": .string(reason),
                             "message": .string(message), "lastProbeTime": time, "lastTransitionTime": time]))
        base["conditions"] = .array(list)
    }

    /// The status to write: counts from the pods, conditions and times as decided.
    var status: JSONValue {
        var status = base
        func put(_ key: String, _ value: Int64) { status[key] = value == 0 ? nil : .int(value) }
        put("active", Int64(active.count))
        put("ready", Int64(active.filter(ReplicaSetPods.isReady).count))
        put("succeeded", succeeded)
        put("failed", failed)
        put("terminating", Int64(terminating))
        if indexed {
            let text = JobPods.formatIndexes(succeededIndexes)
            status["completedIndexes"] = text.isEmpty ? nil : .string(text)
        }
        return .object(status)
    }
}
