@testable import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import ServerTestSupport
import TestSupport
import Testing

/// The scheduler's answers as kubectl shows them, through the API server.
@Suite struct SchedulerKubectlTests {
    private func nodeName(_ cluster: ControllerTestCluster, _ pod: String) async throws -> String {
        try await eventually({ try await cluster.pod(pod)?.string(at: ["spec", "nodeName"]) ?? "" }, until: { !$0.isEmpty })
    }

    private func podScheduledCondition(_ cluster: ControllerTestCluster, _ pod: String) async throws -> JSONValue? {
        try await eventually({
            try await cluster.pod(pod)?.value(at: ["status", "conditions"])?.arrayValue?
                .first { $0["type"]?.stringValue == "PodScheduled" }
        }, until: { $0?["status"]?.stringValue == "False" })
    }

    @Test(.requires(Kubectl.isInstalled, "needs kubectl"))
    func withoutNodesPodsStayPendingUntilANodeAppears() async throws {
        try await withServedControllerCluster { cluster in
            try await cluster.addPod("lonely")
            let condition = try await podScheduledCondition(cluster, "lonely")
            #expect(condition?["reason"]?.stringValue == "Unschedulable")
            #expect(condition?["message"]?.stringValue == "no nodes available to schedule pods")
            #expect(try await cluster.pod("lonely")?.string(at: ["status", "phase"]) == "Pending")
            let events = try await eventually({ try await cluster.events(about: "lonely", reason: "FailedScheduling") }, until: { !$0.isEmpty })
            #expect(events.first?.string(at: ["message"]) == "no nodes available to schedule pods")

            // kubectl shows the reason as on Kubernetes.
            let output = try await cluster.kubectl()("describe", "pod", "lonely")
            #expect(output.stdout.contains("FailedScheduling"))
            #expect(output.stdout.contains("no nodes available to schedule pods"))

            try await cluster.addNode("late")
            #expect(try await nodeName(cluster, "lonely") == "late")
        }
    }
}
