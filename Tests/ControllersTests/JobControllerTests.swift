@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Logging
import Testing

/// The Job controller against the in-process API. The tests play the kubelet: they finish
/// pods by writing their status (Succeeded or Failed, with the containers' finish time), and
/// move a frozen clock for deadlines and back-off.
@Suite struct JobControllerTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func jobJSON(_ name: String, spec: String, restartPolicy: String = "Never") -> String {
        """
        {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"\(name)"},
         "spec":{\(spec)"template":{"metadata":{"labels":{"app":"\(name)"}},
           "spec":{"restartPolicy":"\(restartPolicy)","containers":[{"name":"c","image":"busybox"}]}}}}
        """
    }

    /// The Job controller (with the CronJob controller and the garbage collector) over a fresh API.
    func withJobController<T: Sendable>(clock: TestClock = TestClock(frozenAt: start), backoff: Duration = .zero,
                                        _ body: @Sendable (RolloutCluster) async throws -> T) async throws -> T {
        try await withTestAPI { api in
            try await withWorkloadControllers(on: api, clock: clock, podFailureBackoff: backoff, body)
        }
    }

    /// What a kubelet reports when the pod's only container exited.
    func finish(_ pod: KubeObject, _ phase: String, cluster: RolloutCluster) async throws {
        let now = JSONValue.string(Time(cluster.clock.now()).description)
        let exitCode: Int64 = phase == "Succeeded" ? 0 : 1
        let status: JSONValue = .object(["status": .object([
            "phase": .string(phase),
            "containerStatuses": .array([.object([
                "name": .string("c"), "image": .string("busybox"), "imageID": .string(""), "ready": .bool(false), "restartCount": .int(0),
                "state": .object(["terminated": .object(["exitCode": .int(exitCode), "startedAt": now, "finishedAt": now,
                                                         "reason": .string(phase == "Succeeded" ? "Completed" : "Error")])]),
            ])]),
        ])])
        _ = try await cluster.client.patch(.pods, namespace: "default", name: pod.name ?? "", status, subresource: "status")
    }

    func running(_ cluster: RolloutCluster, _ job: String) async throws -> [KubeObject] {
        try await cluster.activePods("app=\(job)").filter { !JobPods.isFinished($0) }.sorted { ($0.name ?? "") < ($1.name ?? "") }
    }

    func condition(_ job: KubeObject, _ type: String) -> JSONValue? {
        job.value(at: ["status", "conditions"])?.arrayValue?.first { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
    }

    @Test func runsToCompletionWithParallelism() async throws {
        try await withJobController { cluster in
            let job = try await cluster.create(.jobs, yaml: Self.jobJSON("batch", spec: #""completions":4,"parallelism":2,"#))
            try await cluster.wait("2 pods running") { try await running(cluster, "batch").count == 2 }
            let first = try await running(cluster, "batch")
            for pod in first {
                #expect(pod.controllerRef?.uid == job.uid)
                #expect(pod.labels["batch.kubernetes.io/job-name"] == "batch")
                #expect(pod.labels["batch.kubernetes.io/controller-uid"] == job.uid)
                #expect(pod.name?.hasPrefix("batch-") == true)
            }
            try await cluster.wait("status.active 2") { try await cluster.get(.jobs, "batch").int(at: ["status", "active"]) == 2 }
            let started = try await cluster.get(.jobs, "batch")
            #expect(started.string(at: ["status", "startTime"]) == Time(Self.start).description)

            try await finish(first[0], "Succeeded", cluster: cluster)
            try await cluster.wait("a third pod") {
                let pods = try await running(cluster, "batch")
                return pods.count == 2 && !pods.contains { $0.uid == first[0].uid }
            }
            try await cluster.wait("1 succeeded") { try await cluster.get(.jobs, "batch").int(at: ["status", "succeeded"]) == 1 }
            try await finish(first[1], "Succeeded", cluster: cluster)
            try await cluster.wait("two pods for the last two completions") {
                let active = try await running(cluster, "batch").count
                let all = try await cluster.pods("app=batch").count
                return active == 2 && all == 4
            }
            for pod in try await running(cluster, "batch") { try await finish(pod, "Succeeded", cluster: cluster) }
            try await cluster.wait("Complete") { condition(try await cluster.get(.jobs, "batch"), "Complete") != nil }

            let done = try await cluster.get(.jobs, "batch")
            for type in ["SuccessCriteriaMet", "Complete"] {
                let met = try #require(condition(done, type))
                #expect(met["reason"]?.stringValue == "CompletionsReached")
                #expect(met["message"]?.stringValue == "Reached expected number of succeeded pods")
            }
            #expect(done.int(at: ["status", "succeeded"]) == 4)
            #expect(done.int(at: ["status", "active"]) == 0)
            #expect(done.string(at: ["status", "completionTime"]) != nil)
            #expect(try await cluster.pods("app=batch").count == 4, "no pod beyond the completions")
            let events = try await cluster.events(about: "batch")
            #expect(events.filter { $0.hasPrefix("SuccessfulCreate: Created pod: batch-") }.count == 4)
            #expect(events.contains("Completed: Job completed"))
        }
    }

    @Test func failsPastTheBackoffLimit() async throws {
        try await withJobController { cluster in
            _ = try await cluster.create(.jobs, yaml: Self.jobJSON("flaky", spec: #""backoffLimit":1,"#))
            for attempt in 1...2 {
                try await cluster.wait("attempt \(attempt)") { try await running(cluster, "flaky").count == 1 }
                try await finish(try #require(try await running(cluster, "flaky").first), "Failed", cluster: cluster)
                if attempt == 1 {
                    try await cluster.wait("one failure counted") { try await cluster.get(.jobs, "flaky").int(at: ["status", "failed"]) == 1 }
                }
            }
            try await cluster.wait("Failed") { condition(try await cluster.get(.jobs, "flaky"), "Failed") != nil }
            let failed = try await cluster.get(.jobs, "flaky")
            for type in ["FailureTarget", "Failed"] {
                let reason = try #require(condition(failed, type))
                #expect(reason["reason"]?.stringValue == "BackoffLimitExceeded")
                #expect(reason["message"]?.stringValue == "Job has reached the specified backoff limit")
            }
            #expect(failed.int(at: ["status", "failed"]) == 2)
            #expect(failed.string(at: ["status", "completionTime"]) == nil)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await cluster.pods("app=flaky").count == 2, "no pod after the Job failed")
            #expect(try await cluster.events(about: "flaky").contains("BackoffLimitExceeded: Job has reached the specified backoff limit"))
        }
    }

    /// The replacement of a failed pod waits 10 s (the frozen clock decides), then 20 s.
    @Test func replacementsWaitOutTheFailureBackoff() async throws {
        let clock = TestClock(frozenAt: Self.start)
        try await withJobController(clock: clock, backoff: .seconds(10)) { cluster in
            _ = try await cluster.create(.jobs, yaml: Self.jobJSON("slow", spec: #""backoffLimit":5,"#))
            try await cluster.wait("the first pod") { try await running(cluster, "slow").count == 1 }
            let first = try #require(try await running(cluster, "slow").first)
            try await finish(first, "Failed", cluster: cluster)
            try await cluster.wait("the failure counted") { try await cluster.get(.jobs, "slow").int(at: ["status", "failed"]) == 1 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await running(cluster, "slow").isEmpty, "no replacement before the back-off")
            clock.advance(by: 11)
            // Any change of the Job's pods makes it look again (the queue's own retry is 10 s of real time).
            try await cluster.patch(.pods, first.name ?? "", #"{"metadata":{"annotations":{"touch":"1"}}}"#)
            try await cluster.wait("the replacement") { try await running(cluster, "slow").count == 1 }
        }
    }

    @Test func activeDeadlineFailsTheJobAndStopsItsPods() async throws {
        let clock = TestClock(frozenAt: Self.start)
        try await withJobController(clock: clock) { cluster in
            _ = try await cluster.create(.jobs, yaml: Self.jobJSON("long", spec: #""activeDeadlineSeconds":30,"parallelism":2,"completions":2,"#))
            try await cluster.wait("2 pods") { try await running(cluster, "long").count == 2 }
            let pod = try #require(try await running(cluster, "long").first)
            clock.advance(by: 29)
            try await cluster.patch(.pods, pod.name ?? "", #"{"metadata":{"annotations":{"touch":"1"}}}"#)
            try await Task.sleep(for: .milliseconds(300))
            #expect(condition(try await cluster.get(.jobs, "long"), "FailureTarget") == nil, "not before the deadline")
            clock.advance(by: 2)
            try await cluster.patch(.pods, pod.name ?? "", #"{"metadata":{"annotations":{"touch":"2"}}}"#)
            try await cluster.wait("Failed") { condition(try await cluster.get(.jobs, "long"), "Failed") != nil }
            let failed = try await cluster.get(.jobs, "long")
            #expect(condition(failed, "Failed")?["reason"]?.stringValue == "DeadlineExceeded")
            #expect(condition(failed, "Failed")?["message"]?.stringValue == "Job was active longer than specified deadline")
            #expect(try await cluster.activePods("app=long").isEmpty, "the running pods were deleted")
        }
    }

    @Test func indexedJobGivesEachPodItsIndex() async throws {
        try await withJobController { cluster in
            _ = try await cluster.create(.jobs, yaml: Self.jobJSON("idx", spec: #""completionMode":"Indexed","completions":3,"parallelism":2,"#))
            try await cluster.wait("2 pods") { try await running(cluster, "idx").count == 2 }
            let pods = try await running(cluster, "idx")
            #expect(Set(pods.compactMap(JobPods.index(of:))) == [0, 1])
            for pod in pods {
                let index = try #require(JobPods.index(of: pod))
                #expect(pod.labels["batch.kubernetes.io/job-completion-index"] == "\(index)")
                #expect(pod.name?.hasPrefix("idx-\(index)-") == true)
                #expect(pod.string(at: ["spec", "hostname"]) == "idx-\(index)")
                let env = pod.value(at: ["spec", "containers"])?.arrayValue?.first?["env"]?.arrayValue?.first
                #expect(env?["name"]?.stringValue == "JOB_COMPLETION_INDEX")
                #expect(env?["valueFrom"]?["fieldRef"]?["fieldPath"]?.stringValue == "metadata.annotations['batch.kubernetes.io/job-completion-index']")
            }
            try await finish(try #require(pods.first { JobPods.index(of: $0) == 1 }), "Succeeded", cluster: cluster)
            try await cluster.wait("index 2 started") { try await running(cluster, "idx").compactMap(JobPods.index(of:)).sorted() == [0, 2] }
            try await cluster.wait("completedIndexes 1") { try await cluster.get(.jobs, "idx").string(at: ["status", "completedIndexes"]) == "1" }
            for pod in try await running(cluster, "idx") { try await finish(pod, "Succeeded", cluster: cluster) }
            try await cluster.wait("Complete") { condition(try await cluster.get(.jobs, "idx"), "Complete") != nil }
            #expect(try await cluster.get(.jobs, "idx").string(at: ["status", "completedIndexes"]) == "0-2")
        }
    }

    @Test func suspendedJobRunsNothingUntilResumed() async throws {
        try await withJobController { cluster in
            _ = try await cluster.create(.jobs, yaml: Self.jobJSON("later", spec: #""suspend":true,"parallelism":2,"completions":2,"#))
            try await cluster.wait("Suspended") { condition(try await cluster.get(.jobs, "later"), "Suspended") != nil }
            #expect(try await cluster.pods("app=later").isEmpty)
            #expect(try await cluster.get(.jobs, "later").string(at: ["status", "startTime"]) == nil)
            try await cluster.patch(.jobs, "later", #"{"spec":{"suspend":false}}"#)
            try await cluster.wait("2 pods") { try await running(cluster, "later").count == 2 }
            try await cluster.wait("resumed") {
                try await cluster.get(.jobs, "later").value(at: ["status", "conditions"])?.arrayValue?
                    .contains { $0["type"]?.stringValue == "Suspended" && $0["status"]?.stringValue == "False" } == true
            }
            let resumed = try await cluster.get(.jobs, "later")
            let suspended = resumed.value(at: ["status", "conditions"])?.arrayValue?.first { $0["type"]?.stringValue == "Suspended" }
            #expect(suspended?["status"]?.stringValue == "False")
            #expect(suspended?["reason"]?.stringValue == "JobResumed")
            #expect(try await cluster.events(about: "later").contains("Resumed: Job resumed"))
        }
    }

    @Test func finishedJobIsDeletedAfterItsTTL() async throws {
        let clock = TestClock(frozenAt: Self.start)
        try await withJobController(clock: clock) { cluster in
            _ = try await cluster.create(.jobs, yaml: Self.jobJSON("brief", spec: #""ttlSecondsAfterFinished":60,"#))
            try await cluster.wait("a pod") { try await running(cluster, "brief").count == 1 }
            try await finish(try #require(try await running(cluster, "brief").first), "Succeeded", cluster: cluster)
            try await cluster.wait("Complete") { condition(try await cluster.get(.jobs, "brief"), "Complete") != nil }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await cluster.client.get(.jobs, namespace: "default", name: "brief") != nil, "kept until the TTL passed")
            clock.advance(by: 61)
            try await cluster.patch(.jobs, "brief", #"{"metadata":{"annotations":{"touch":"1"}}}"#)
            try await cluster.wait("the Job and its pod gone") {
                let job = try await cluster.client.get(.jobs, namespace: "default", name: "brief")
                let pods = try await cluster.pods("app=brief")
                return job == nil && pods.isEmpty
            }
        }
    }

    @Test func formatsCompletedIndexesAsRanges() {
        #expect(JobPods.formatIndexes([]) == "")
        #expect(JobPods.formatIndexes([3]) == "3")
        #expect(JobPods.formatIndexes([0, 1, 2, 4, 6, 7]) == "0-2,4,6-7")
    }
}
