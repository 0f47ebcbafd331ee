import Foundation
import Testing
import TestSupport

/// Issue 17's preemption story on three machines (a server with its agent and two agents, each
/// in its own network namespace, real containers, real kubectl 1.32): node-a full of a
/// low-priority Deployment's pods; a high-priority pod preempts one of them, whose container
/// the real agent stops within its grace period, and then runs on node-a; the Deployment's
/// replacement cannot preempt anything and waits with kube-scheduler's message.
extension ClusterTests {
    @Test func aHighPriorityPodPreemptsALowPriorityOneOnARealNode() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let (server, a, b) = try await startThreeNodes(cluster)
        guard server != nil, a != nil, b != nil else { return }

        try await cluster.kubectlOK(["cordon", "server", "node-b"])
        try await cluster.kubectlOK(["create", "priorityclass", "low", "--value=10"])
        try await cluster.kubectlOK(["create", "priorityclass", "high", "--value=1000"])
        // Two fillers of 45% of what is free on node-a each: a third pod of that size does not fit.
        let allocatable = milliCPU(await cluster.query(["get", "node", "node-a", "-o", "jsonpath={.status.allocatable.cpu}"]))
        let used = await cluster.query(["get", "pods", "-A", "--field-selector", "spec.nodeName=node-a", "-o",
                                        "jsonpath={range .items[*].spec.containers[*]}{.resources.requests.cpu} {end}"])
            .split(separator: " ").map { milliCPU(String($0)) }.reduce(0, +)
        let share = (allocatable - used) * 45 / 100
        #expect(share > 100, "node-a: \(allocatable)m allocatable, \(used)m requested")
        try cluster.writeManifest("filler.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: filler}
            spec:
              replicas: 2
              selector: {matchLabels: {app: filler}}
              template:
                metadata: {labels: {app: filler}}
                spec:
                  priorityClassName: low
                  terminationGracePeriodSeconds: 1
                  containers: [{name: c, image: busybox, command: [sleep, "3600"], resources: {requests: {cpu: \(share)m}}}]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("filler.yaml")])
        let fillers = await waitForRunning(cluster, "app=filler", 2)
        #expect(fillers.count == 2 && fillers.allSatisfy { $0.node == "node-a" }, "\(fillers)")

        try cluster.writeManifest("urgent.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: urgent, labels: {app: urgent}}
            spec:
              priorityClassName: high
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: busybox, command: [sleep, "3600"], resources: {requests: {cpu: \(share)m}}}]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("urgent.yaml")])
        let urgent = await waitForRunning(cluster, "app=urgent", 1)
        let described = await cluster.query(["describe", "pod", "urgent"])
        #expect(urgent.first?.node == "node-a", "\(urgent)\n\(described)")
        #expect(await cluster.query(["get", "pod", "urgent", "-o", "jsonpath={.spec.priority}"]) == "1000")
        // The nomination was written with the fit-only failure (the agent's status, written
        // whole once the pod runs, no longer carries nominatedNodeName).
        let failures = await cluster.query(["get", "events", "--field-selector", "involvedObject.name=urgent,reason=FailedScheduling",
                                            "-o", #"jsonpath={range .items[*]}{.message}{"\n"}{end}"#])
        #expect(failures.split(separator: "\n").contains("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable."),
                "\(failures)")
        let uid = await cluster.query(["get", "pod", "urgent", "-o", "jsonpath={.metadata.uid}"])
        let preempted = await cluster.query(["get", "events", "--field-selector", "reason=Preempted", "-o", "jsonpath={.items[*].message}"])
        #expect(preempted == "Preempted by pod \(uid) on node node-a", "\(preempted)")

        // One filler still runs beside it; the replacement of the other cannot preempt anything.
        let left = await waitForRunning(cluster, "app=filler", 1)
        #expect(left.count == 1 && left.first?.node == "node-a", "\(left)")
        var message = ""
        let waiting = await TestProcess.waitFor(60) {
            message = await cluster.query(["get", "pods", "-l", "app=filler", "-o",
                                           "jsonpath={.items[?(@.status.phase==\"Pending\")].status.conditions[?(@.type==\"PodScheduled\")].message}"])
            return !message.isEmpty
        }
        #expect(waiting && message == """
            0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable. preemption: 0/3 nodes are available: \
            1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.
            """, "\(message)")
        try await cluster.kubectlOK(["uncordon", "server", "node-b"])
    }

    /// A Kubernetes cpu quantity ("2", "1500m") in millicores; 0 when unreadable.
    private func milliCPU(_ text: String) -> Int {
        if text.hasSuffix("m") { return Int(text.dropLast()) ?? 0 }
        return Double(text).map { Int($0 * 1000) } ?? 0
    }
}
