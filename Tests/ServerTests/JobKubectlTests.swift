@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// Real kubectl (the 1.32 dispatcher, which sends protobuf bodies for `create`) driving Jobs
/// and CronJobs through the Job and CronJob controllers. The test plays the kubelet by writing
/// pod statuses; the controllers' clock is frozen so no schedule fires by itself.
@Suite struct JobKubectlTests {
    func withServedWorkloads<T: Sendable>(_ body: @Sendable (RolloutCluster) async throws -> T) async throws -> T {
        try await withTestServer { server in
            try await withWorkloadControllers(on: server.api, clock: TestClock(frozenAt: Date()), body)
        }
    }

    func succeed(_ pod: KubeObject, cluster: RolloutCluster) async throws {
        let now = JSONValue.string(Time(cluster.clock.now()).description)
        let status: JSONValue = .object(["status": .object([
            "phase": .string("Succeeded"), "startTime": now,
            "containerStatuses": .array((pod.value(at: ["spec", "containers"])?.arrayValue ?? []).map { container in
                .object(["name": container["name"] ?? .string(""), "image": container["image"] ?? .string(""), "imageID": .string(""),
                         "ready": .bool(false), "restartCount": .int(0),
                         "state": .object(["terminated": .object(["exitCode": .int(0), "reason": .string("Completed"),
                                                                  "startedAt": now, "finishedAt": now])])])
            }),
        ])])
        _ = try await cluster.client.patch(.pods, namespace: "default", name: pod.name ?? "", status, subresource: "status")
    }

    @Test func createGetAndCompleteAJob() async throws {
        try await withServedWorkloads { cluster in
            let kubectl = try Kubectl(api: cluster.api)
            let created = try await kubectl("create", "job", "pi", "--image=busybox", "--", "echo", "hi")
            #expect(created.stdout == "job.batch/pi created\n", "\(created.stderr)")
            try await cluster.wait("the Job's pod") { try await cluster.activePods("batch.kubernetes.io/job-name=pi").count == 1 }
            let running = try await kubectl("get", "jobs")
            let rows = tableRows(running.stdout)
            #expect(rows.first == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], "\(running.stdout) \(running.stderr)")
            #expect(rows.dropFirst().first?.prefix(3) == ["pi", "Running", "0/1"], "\(running.stdout)")

            let pod = try #require(try await cluster.activePods("batch.kubernetes.io/job-name=pi").first)
            try await succeed(pod, cluster: cluster)
            let waited = try await kubectl("wait", "--for=condition=complete", "job/pi", "--timeout=30s")
            #expect(waited.stdout == "job.batch/pi condition met\n", "\(waited.stdout) \(waited.stderr)")
            let done = tableRows(try await kubectl("get", "job", "pi").stdout)
            #expect(done.dropFirst().first?.prefix(4) == ["pi", "Complete", "1/1", "0s"], "\(done)")
            let wide = tableRows(try await kubectl("get", "job", "pi", "-o", "wide").stdout)
            #expect(wide.first?.suffix(3) == ["CONTAINERS", "IMAGES", "SELECTOR"])

            let describe = try await kubectl("describe", "job", "pi")
            #expect(describe.stdout.contains("Completed") && describe.stdout.contains("Created pod: \(pod.name ?? "")"), "\(describe.stdout)")
        }
    }

    @Test func cronJobsWithKubectl() async throws {
        try await withServedWorkloads { cluster in
            let kubectl = try Kubectl(api: cluster.api)
            let created = try await kubectl("create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *", "--", "date")
            #expect(created.stdout == "cronjob.batch/nightly created\n", "\(created.stderr)")
            let listed = tableRows(try await kubectl("get", "cj").stdout)
            #expect(listed.first == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"], "\(listed)")
            #expect(listed.dropFirst().first?.prefix(9) == ["nightly", "0", "3", "*", "*", "*", "<none>", "False", "0"], "\(listed)")

            let manual = try await kubectl("create", "job", "by-hand", "--from=cronjob/nightly")
            #expect(manual.stdout == "job.batch/by-hand created\n", "\(manual.stderr)")
            let job = try await cluster.get(.jobs, "by-hand")
            #expect(job.annotations["cronjob.kubernetes.io/instantiate"] == "manual")
            // kubectl makes the CronJob the Job's controller, so deleting the CronJob takes it along.
            let owner = job.metadata["ownerReferences"]?.arrayValue?.first
            let cronJob = try await cluster.get(.cronJobs, "nightly")
            #expect(owner?["kind"]?.stringValue == "CronJob" && owner?["uid"]?.stringValue == cronJob.uid && owner?["controller"]?.boolValue == true,
                    "\(job.metadata)")
            #expect(job.value(at: ["spec", "template", "spec", "containers"])?.arrayValue?.first?["image"]?.stringValue == "busybox")
            try await cluster.wait("its pod") { try await cluster.activePods("batch.kubernetes.io/job-name=by-hand").count == 1 }

            let bad = try await kubectl("create", "cronjob", "bad", "--image=busybox", "--schedule=61 * * * *")
            #expect(bad.status != 0)
            #expect(bad.stderr.contains(#"error: failed to create cronjob: CronJob.batch "bad" is invalid: spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61"#),
                    "\(bad.stderr)")
        }
    }
}

/// `kubectl rollout status ds` and `kubectl get ds` over the whole controller manager, with a
/// loop as the nodes' kubelets.
@Suite struct DaemonSetKubectlTests {
    @Test func rolloutStatusAndGet() async throws {
        try await withTestServer { server in
            try await withControllers(on: server.api) { cluster in
                try await withFakeKubelets(client: cluster.client) {
                    for name in ["n1", "n2"] { try await cluster.addNode(name) }
                    let kubectl = try Kubectl(api: server.api)
                    let manifest = """
                        apiVersion: apps/v1
                        kind: DaemonSet
                        metadata: {name: agent}
                        spec:
                          selector: {matchLabels: {app: agent}}
                          template:
                            metadata: {labels: {app: agent}}
                            spec: {containers: [{name: c, image: busybox}]}
                        """
                    let applied = try await kubectl("apply", "-f", "-", input: manifest)
                    #expect(applied.stdout == "daemonset.apps/agent created\n", "\(applied.stderr)")
                    let status = try await kubectl("rollout", "status", "ds/agent", "--timeout=60s")
                    #expect(status.stdout.hasSuffix("daemon set \"agent\" successfully rolled out\n"), "\(status.stdout) \(status.stderr)")
                    let rows = tableRows(try await kubectl("get", "ds").stdout)
                    #expect(rows.first == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"], "\(rows)")
                    #expect(rows.dropFirst().first?.prefix(7) == ["agent", "2", "2", "2", "2", "2", "<none>"], "\(rows)")
                }
            }
        }
    }
}
