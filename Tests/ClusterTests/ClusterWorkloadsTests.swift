import Foundation
import Testing
import TestSupport

/// Issue 16's workload story on three machines (a server with its agent and two agents, each
/// in its own network namespace, real kubectl, real containers): a DaemonSet with a pod on each
/// node, a Job running to completion two pods at a time, a CronJob firing on the server's
/// clock, and an invalid schedule refused.
extension ClusterTests {
    @Test func daemonSetJobAndCronJobRunOnTheNodes() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let (server, a, b) = try await startThreeNodes(cluster)
        guard server != nil, a != nil, b != nil else { return }

        try cluster.writeManifest("workloads.yaml", """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: agent}
            spec:
              selector: {matchLabels: {app: agent}}
              template:
                metadata: {labels: {app: agent}}
                spec: {containers: [{name: c, image: busybox, command: [sleep, "3600"]}]}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata: {name: batch}
            spec:
              completions: 4
              parallelism: 2
              template:
                spec:
                  restartPolicy: Never
                  containers: [{name: c, image: busybox, command: [sh, -c, "echo done from $(hostname)"]}]
            ---
            apiVersion: batch/v1
            kind: CronJob
            metadata: {name: tick}
            spec:
              schedule: "* * * * *"
              jobTemplate:
                spec:
                  template:
                    spec:
                      restartPolicy: OnFailure
                      containers: [{name: c, image: busybox, command: [date]}]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("workloads.yaml")])

        // The DaemonSet: one Running pod on each of the three nodes.
        let rollout = try await cluster.kubectl(["rollout", "status", "ds/agent", "--timeout=180s"])
        #expect(rollout.status == 0 && rollout.output.contains("daemon set \"agent\" successfully rolled out"), "\(rollout.output)")
        let daemons = await waitForRunning(cluster, "app=agent", 3)
        #expect(Set(daemons.map(\.node)) == ["server", "node-a", "node-b"], "\(daemons)")

        // The Job: four successful pods, at most two at a time, then Complete.
        let waited = try await cluster.kubectl(["wait", "--for=condition=complete", "job/batch", "--timeout=180s"])
        let jobs = await cluster.query(["get", "jobs", "-o", "wide"])
        let podTable = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(waited.status == 0, "\(waited.output)\n\(jobs)\n\(podTable)")
        #expect(jobs.contains("batch") && jobs.contains("Complete") && jobs.contains("4/4"), "\(jobs)")
        let succeeded = await cluster.query(["get", "pods", "-l", "batch.kubernetes.io/job-name=batch",
                                             "-o", "jsonpath={range .items[*]}{.status.phase} {end}"])
        #expect(succeeded.split(separator: " ") == ["Succeeded", "Succeeded", "Succeeded", "Succeeded"], "\(succeeded)")
        let firstPod = await cluster.query(["get", "pods", "-l", "batch.kubernetes.io/job-name=batch", "-o", "jsonpath={.items[0].metadata.name}"])
        let logs = await cluster.query(["logs", firstPod])
        #expect(logs.hasPrefix("done from batch-"), "\(logs)")

        // The CronJob: a Job within the next minute (and a little), which completes.
        var cronJob = ""
        let fired = await TestProcess.waitFor(130) {
            cronJob = await cluster.query(["get", "jobs", "-o", "jsonpath={.items[?(@.metadata.ownerReferences[0].kind==\"CronJob\")].metadata.name}"])
            return !cronJob.isEmpty
        }
        let described = await cluster.query(["describe", "cronjob", "tick"])
        #expect(fired, "\(described)")
        if fired {
            let name = String(cronJob.split(separator: " ").first ?? "")
            let done = try await cluster.kubectl(["wait", "--for=condition=complete", "job/\(name)", "--timeout=120s"])
            #expect(done.status == 0, "\(done.output)")
            let table = await cluster.query(["get", "cronjobs"])
            #expect(table.contains("tick") && table.contains("* * * * *"), "\(table)")
        }

        // A bad schedule is a clear error.
        try cluster.writeManifest("bad.yaml", """
            apiVersion: batch/v1
            kind: CronJob
            metadata: {name: bad}
            spec:
              schedule: "every day"
              jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}
            """)
        let bad = try await cluster.kubectl(["apply", "-f", cluster.manifestPath("bad.yaml")])
        #expect(bad.status != 0 && bad.output.contains(#"spec.schedule: Invalid value: "every day": expected exactly 5 fields, found 2: [every day]"#),
                "\(bad.output)")
    }
}
