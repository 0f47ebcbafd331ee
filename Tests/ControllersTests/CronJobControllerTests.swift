@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Testing

/// The CronJob controller against the in-process API with a frozen clock the tests move past
/// schedule times. A sync is triggered by touching the CronJob (its own requeue waits for the
/// next schedule time in real time).
@Suite struct CronJobControllerTests {
    static func cronJobJSON(_ name: String, schedule: String = "* * * * *", spec: String = "") -> String {
        """
        {"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"\(name)"},
         "spec":{"schedule":"\(schedule)",\(spec)"jobTemplate":{"metadata":{"labels":{"cron":"\(name)"}},"spec":{"template":{
           "spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}}}
        """
    }

    /// A clock frozen now, and the first whole minute after it.
    static func frozenClock() -> (TestClock, Date) {
        let now = Date()
        // Ten minutes ahead, not the next minute: the API stamps creationTimestamp with the real
        // time, and a loaded full run can start the test a minute boundary too late, after
        // which the first schedule time would be the one after this.
        let minute = (now.timeIntervalSince1970 / 60).rounded(.down) * 60 + 600
        return (TestClock(frozenAt: now), Date(timeIntervalSince1970: minute))
    }

    func withCron<T: Sendable>(_ clock: TestClock, _ body: @Sendable (RolloutCluster) async throws -> T) async throws -> T {
        try await withTestAPI { api in try await withWorkloadControllers(on: api, clock: clock, body) }
    }

    /// Moves the clock to `time` and makes the controller look.
    func advance(_ cluster: RolloutCluster, to time: Date, _ name: String, step: Int) async throws {
        cluster.clock.advance(by: time.timeIntervalSince(cluster.clock.now()))
        try await cluster.patch(.cronJobs, name, #"{"metadata":{"annotations":{"touch":"\#(step)"}}}"#)
    }

    func jobs(_ cluster: RolloutCluster, _ name: String) async throws -> [KubeObject] {
        try await cluster.client.list(.jobs, namespace: "default", labelSelector: LabelSelector(parsing: "cron=\(name)")).items
            .filter { $0.deletionTimestamp == nil }.sorted { ($0.name ?? "") < ($1.name ?? "") }
    }

    /// What the Job controller writes when a Job completes.
    func complete(_ job: KubeObject, at time: Date, cluster: RolloutCluster) async throws {
        let stamp = JSONValue.string(Time(time).description)
        let status: JSONValue = .object(["status": .object([
            "startTime": stamp, "completionTime": stamp, "succeeded": .int(1),
            "conditions": .array(["SuccessCriteriaMet", "Complete"].map {
                .object(["type": .string($0), "status": .string("True"), "reason": .string("CompletionsReached"),
                         "message": .string("Reached expected number of succeeded pods"), "lastTransitionTime": stamp])
            }),
        ])])
        _ = try await cluster.client.patch(.jobs, namespace: "default", name: job.name ?? "", status, subresource: "status")
    }

    func minutes(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970) / 60 }

    @Test func firesOnScheduleWithConcurrencyPolicies() async throws {
        let (clock, first) = Self.frozenClock()
        try await withCron(clock) { cluster in
            let cronJob = try await cluster.create(.cronJobs, yaml: Self.cronJobJSON("tick", spec: #""concurrencyPolicy":"Forbid","successfulJobsHistoryLimit":1,"#))
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await jobs(cluster, "tick").isEmpty, "nothing before the first schedule time")

            try await advance(cluster, to: first.addingTimeInterval(1), "tick", step: 1)
            try await cluster.wait("the first Job") { try await jobs(cluster, "tick").count == 1 }
            let job = try #require(try await jobs(cluster, "tick").first)
            #expect(job.name == "tick-\(minutes(first))")
            #expect(job.controllerRef?.uid == cronJob.uid)
            #expect(job.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] == ISO8601DateFormatter().string(from: first))
            try await cluster.wait("status.active") { try await cluster.get(.cronJobs, "tick").value(at: ["status", "active"])?.arrayValue?.count == 1 }
            let status = try await cluster.get(.cronJobs, "tick").value(at: ["status"])
            #expect(status?["lastScheduleTime"]?.stringValue == Time(first).description)
            #expect(status?["active"]?.arrayValue?.first?["name"]?.stringValue == job.name)
            try await cluster.wait("the SuccessfulCreate event") {
                try await cluster.events(about: "tick").contains("SuccessfulCreate: Created job \(job.name ?? "")")
            }

            // Forbid: the next time passes while the first Job runs.
            let second = first.addingTimeInterval(60)
            try await advance(cluster, to: second.addingTimeInterval(1), "tick", step: 2)
            try await cluster.wait("JobAlreadyActive") {
                try await cluster.events(about: "tick").contains("JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid")
            }
            #expect(try await jobs(cluster, "tick").count == 1)

            // Replace: the running Job goes, one for the current time comes.
            try await cluster.patch(.cronJobs, "tick", #"{"spec":{"concurrencyPolicy":"Replace"}}"#)
            try await cluster.wait("the replacement") { try await jobs(cluster, "tick").map(\.name) == ["tick-\(minutes(second))"] }
            try await cluster.wait("the SuccessfulDelete event") {
                try await cluster.events(about: "tick").contains("SuccessfulDelete: Deleted job \(job.name ?? "")")
            }

            // A completed Job leaves status.active and sets lastSuccessfulTime.
            let replacement = try #require(try await jobs(cluster, "tick").first)
            try await complete(replacement, at: second.addingTimeInterval(5), cluster: cluster)
            try await cluster.wait("active emptied") { try await cluster.get(.cronJobs, "tick").value(at: ["status", "active"]) == nil }
            #expect(try await cluster.get(.cronJobs, "tick").string(at: ["status", "lastSuccessfulTime"]) == Time(second.addingTimeInterval(5)).description)
            try await cluster.wait("the SawCompletedJob event") {
                try await cluster.events(about: "tick").contains("SawCompletedJob: Saw completed job: \(replacement.name ?? ""), condition: Complete")
            }

            // History: with successfulJobsHistoryLimit 1, the next completion removes this one.
            let third = second.addingTimeInterval(60)
            try await advance(cluster, to: third.addingTimeInterval(1), "tick", step: 3)
            try await cluster.wait("the third Job") { try await jobs(cluster, "tick").count == 2 }
            let newest = try #require(try await jobs(cluster, "tick").first { $0.name == "tick-\(minutes(third))" })
            try await complete(newest, at: third.addingTimeInterval(5), cluster: cluster)
            try await cluster.wait("the older completed Job deleted") { try await jobs(cluster, "tick").map(\.name) == [newest.name] }
        }
    }

    @Test func startingDeadlineAndSuspendSkipTimes() async throws {
        let (clock, first) = Self.frozenClock()
        try await withCron(clock) { cluster in
            _ = try await cluster.create(.cronJobs, yaml: Self.cronJobJSON("late", spec: #""startingDeadlineSeconds":10,"#))
            _ = try await cluster.create(.cronJobs, yaml: Self.cronJobJSON("paused", spec: #""suspend":true,"#))
            try await advance(cluster, to: first.addingTimeInterval(30), "late", step: 1)
            try await cluster.patch(.cronJobs, "paused", #"{"metadata":{"annotations":{"touch":"1"}}}"#)
            // The time 30 s ago is outside the 10 s starting deadline: skipped, as upstream
            // looks no further back than the deadline.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await jobs(cluster, "late").isEmpty)
            #expect(try await jobs(cluster, "paused").isEmpty)
            // Within the deadline of the next time, it runs.
            try await advance(cluster, to: first.addingTimeInterval(65), "late", step: 2)
            try await cluster.wait("a Job within the deadline") { try await jobs(cluster, "late").count == 1 }
        }
    }

    /// A sync that created the Job of a time but lost its status write (a conflict with a
    /// concurrent change): the next sync finds the Job, lists it as active, and records its
    /// time as lastScheduleTime instead of leaving the status behind the Job it ran.
    @Test func aJobOfTheTimeMadeByALostSyncSetsLastScheduleTime() async throws {
        let (clock, first) = Self.frozenClock()
        try await withCron(clock) { cluster in
            let cronJob = try await cluster.create(.cronJobs, yaml: Self.cronJobJSON("lost"))
            let orphan = """
                {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"lost-\(minutes(first))","labels":{"cron":"lost"},
                 "ownerReferences":[{"apiVersion":"batch/v1","kind":"CronJob","name":"lost","uid":"\(cronJob.uid ?? "")","controller":true}]},
                 "spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}
                """
            _ = try await cluster.create(.jobs, yaml: orphan)
            try await advance(cluster, to: first.addingTimeInterval(1), "lost", step: 1)
            try await cluster.wait("lastScheduleTime of the existing Job") {
                try await cluster.get(.cronJobs, "lost").string(at: ["status", "lastScheduleTime"]) == Time(first).description
            }
            let status = try await cluster.get(.cronJobs, "lost").value(at: ["status"])
            #expect(status?["active"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["lost-\(minutes(first))"])
            #expect(try await jobs(cluster, "lost").count == 1, "no second Job for the same time")
        }
    }

    @Test func timeZoneNamesTheWallClock() async throws {
        let (clock, _) = Self.frozenClock()
        try await withCron(clock) { cluster in
            _ = try await cluster.create(.cronJobs, yaml: Self.cronJobJSON("tokyo", schedule: "30 9 * * *", spec: #""timeZone":"Asia/Tokyo","#))
            let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
            let due = try #require(try CronSchedule(parsing: "30 9 * * *").next(after: clock.now(), in: tokyo))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = tokyo
            #expect(calendar.component(.hour, from: due) == 9 && calendar.component(.minute, from: due) == 30)
            try await advance(cluster, to: due.addingTimeInterval(2), "tokyo", step: 1)
            try await cluster.wait("the Job at 09:30 in Tokyo") { try await jobs(cluster, "tokyo").count == 1 }
            let job = try #require(try await jobs(cluster, "tokyo").first)
            #expect(job.name == "tokyo-\(minutes(due))")
            #expect(job.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]?.hasSuffix("T09:30:00+09:00") == true)
        }
    }

    @Test func mostRecentScheduleTimeSkipsALongOutageQuickly() throws {
        let schedule = try CronSchedule(parsing: "*/5 * * * *")
        let utc = try #require(TimeZone(identifier: "UTC"))
        let earliest = Date(timeIntervalSince1970: 1_800_000_000) // 2027-01-15T08:00:00Z
        let now = earliest.addingTimeInterval(30 * 86400 + 7 * 60)
        let (recent, missed) = CronJobState.mostRecentScheduleTime(schedule, zone: utc, earliest: earliest, now: now)
        #expect(recent == earliest.addingTimeInterval(30 * 86400 + 5 * 60))
        #expect(missed > 100)
        let (none, zero) = CronJobState.mostRecentScheduleTime(schedule, zone: utc, earliest: earliest, now: earliest.addingTimeInterval(299))
        #expect(none == nil && zero == 0)
    }
}
