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

/// The disruption controller: its arithmetic on its own (`DisruptionBudgetStatus`), then the
/// whole controller manager keeping real budgets' statuses over a Deployment's pods (the
/// scheduler binds them, a loop plays the kubelet and makes them Ready).
@Suite struct DisruptionControllerTests {
    static func object(_ text: String) throws -> KubeObject {
        guard case .object(let fields) = try JSONParser.parse(Array(text.utf8)) else { throw TestFailure("not an object: \(text)") }
        return KubeObject(fields: fields)
    }

    static func pod(_ name: String, ready: Bool = true, owner: String? = "rs-uid", deleting: Bool = false) -> KubeObject {
        var metadata: [String: JSONValue] = ["name": .string(name), "namespace": .string("default"), "labels": .object(["app": .string("web")])]
        if let owner {
            metadata["ownerReferences"] = .array([.object(["apiVersion": .string("apps/v1"), "kind": .string("ReplicaSet"), "name": .string("web-1"),
                                                           "uid": .string(owner), "controller": .bool(true)])])
        }
        if deleting { metadata["deletionTimestamp"] = .string(Time.now().description) }
        return KubeObject(fields: [
            "metadata": .object(metadata),
            "status": .object(["phase": .string("Running"), "conditions": .array([.object(["type": .string("Ready"), "status": .string(ready ? "True" : "False")])])]),
        ])
    }

    static func budget(_ spec: String, status: String = "{}") throws -> KubeObject {
        try object(#"{"metadata":{"name":"web","namespace":"default","generation":1},"spec":{"selector":{"matchLabels":{"app":"web"}},\#(spec)},"status":\#(status)}"#)
    }

    @Test func countsFromPodsAndControllers() throws {
        let now = Date()
        let pods = [Self.pod("a"), Self.pod("b"), Self.pod("c", ready: false), Self.pod("d", deleting: true)]
        // An integer minAvailable counts the selected pods; Ready ones not being deleted are healthy.
        let byCount = try DisruptionBudgetStatus(budget: Self.budget(#""minAvailable":1"#), pods: pods, now: now) { _ in nil }
        #expect(byCount.expectedPods == 4 && byCount.desiredHealthy == 1 && byCount.currentHealthy == 2 && byCount.disruptionsAllowed == 1)

        // maxUnavailable and percentages use the controllers' scale, each controller once; rounding up.
        let scale: (KubeObject) -> (uid: String, replicas: Int64)? = { _ in ("deployment-uid", 5) }
        let byMax = try DisruptionBudgetStatus(budget: Self.budget(#""maxUnavailable":"30%""#), pods: pods, now: now, scale: scale)
        #expect(byMax.expectedPods == 5 && byMax.desiredHealthy == 3 && byMax.disruptionsAllowed == 0)
        let byPercent = try DisruptionBudgetStatus(budget: Self.budget(#""minAvailable":"10%""#), pods: pods, now: now, scale: scale)
        #expect(byPercent.expectedPods == 5 && byPercent.desiredHealthy == 1 && byPercent.disruptionsAllowed == 1)

        // Pods without a controller add nothing to a percentage and are reported; a controller
        // that cannot be found fails the sync with upstream's message.
        let unmanaged = try DisruptionBudgetStatus(budget: Self.budget(#""maxUnavailable":1"#), pods: [Self.pod("loose", owner: nil)], now: now, scale: scale)
        #expect(unmanaged.unmanagedPods == ["loose"] && unmanaged.expectedPods == 0 && unmanaged.disruptionsAllowed == 0)
        let byMaxUnavailable = try Self.budget(#""maxUnavailable":1"#)
        do {
            _ = try DisruptionBudgetStatus(budget: byMaxUnavailable, pods: pods, now: now) { _ in nil }
            Issue.record("a pod without a known controller was counted")
        } catch {
            #expect(error.message == #"found no controllers for pod "a""#)
        }
        // No budget at all (neither bound): nothing desired, nothing expected.
        let neither = try DisruptionBudgetStatus(budget: Self.budget(#""unhealthyPodEvictionPolicy":"AlwaysAllow""#), pods: pods, now: now) { _ in nil }
        #expect(neither.expectedPods == 0 && neither.disruptionsAllowed == 0)
    }

    @Test func disruptedPodsExpireAfterTwoMinutes() throws {
        let now = Date()
        let recent = Time(now.addingTimeInterval(-30)).description, old = Time(now.addingTimeInterval(-180)).description
        let budget = try Self.budget(#""minAvailable":1"#, status: #"{"disruptedPods":{"a":"\#(recent)","b":"\#(old)","gone":"\#(recent)"}}"#)
        let computed = try DisruptionBudgetStatus(budget: budget, pods: [Self.pod("a"), Self.pod("b"), Self.pod("c")], now: now) { _ in nil }
        #expect(computed.disruptedPods == ["a": recent], "an old entry and one of a pod that is gone are dropped")
        #expect(computed.currentHealthy == 2, "a recently evicted pod is not healthy")
        #expect(computed.recheckAt == Time(rfc3339: recent)?.date.addingTimeInterval(120))

        let status = try #require(computed.status(for: budget, now: now))
        #expect(status["disruptionsAllowed"]?.intValue == 1 && status["observedGeneration"]?.intValue == 1)
        #expect(status["conditions"]?.arrayValue?.first?["reason"]?.stringValue == "SufficientPods")
        // Written once, the same counts need no second write.
        var written = budget
        written.set(status, at: ["status"])
        #expect(computed.status(for: written, now: now) == nil)
    }

    /// expectedPods, currentHealthy, disruptionsAllowed of budget `web`.
    static func counts(_ cluster: ControllerTestCluster) async throws -> [Int64] {
        let status = try await cluster.client.get(.podDisruptionBudgets, namespace: "default", name: "web")?.value(at: ["status"])
        return ["expectedPods", "currentHealthy", "disruptionsAllowed"].map { status?[$0]?.intValue ?? -1 }
    }

    @Test func keepsBudgetsOfADeployment() async throws {
        // Without the garbage collector, which would delete the pod whose owner does not exist.
        var settings = ControllerSettings.forTests
        settings.controllers = ["*", "-garbage-collector"]
        try await withControllerCluster(settings: settings) { cluster in
            try await withFakeKubelets(client: cluster.client) {
                try await cluster.addNode("n1")
                _ = try await cluster.client.create(.deployments, namespace: "default", Self.object("""
                    {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
                     "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
                       "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}
                    """))
                _ = try await cluster.client.create(.podDisruptionBudgets, namespace: "default",
                                                    Self.budget(#""maxUnavailable":1"#))
                let settled = try await eventually(within: 60, { try await cluster.client.get(.podDisruptionBudgets, namespace: "default", name: "web") }) {
                    $0?.value(at: ["status", "currentHealthy"])?.intValue == 3 && $0?.value(at: ["status", "disruptionsAllowed"])?.intValue == 1
                }
                let status = try #require(settled?.value(at: ["status"]))
                #expect(status["expectedPods"]?.intValue == 3 && status["desiredHealthy"]?.intValue == 2 && status["observedGeneration"]?.intValue == 1)
                let condition = status["conditions"]?.arrayValue?.first
                #expect(condition?["type"]?.stringValue == "DisruptionAllowed" && condition?["status"]?.stringValue == "True"
                        && condition?["reason"]?.stringValue == "SufficientPods", "\(status)")

                // Scaling the Deployment changes what is expected.
                _ = try await cluster.client.patch(.deployments, namespace: "default", name: "web", .object(["spec": .object(["replicas": .int(5)])]))
                _ = try await waitUntil(within: 60, { try await Self.counts(cluster) }) { $0 == [5, 5, 1] }

                // An eviction uses the disruption; once the pod is gone and its replacement is
                // Ready, the controller allows one again.
                let pod = try #require(try await cluster.client.list(.pods, namespace: "default").items.first)
                _ = try await cluster.api.service.evict(namespace: "default", name: pod.name ?? "",
                                                        eviction: Self.object(#"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"\#(pod.name ?? "")"}}"#),
                                                        context: cluster.api.service.context())
                _ = try await waitUntil(within: 60, { try await Self.counts(cluster) }) { $0 == [5, 5, 1] }
                let after = try await cluster.client.get(.podDisruptionBudgets, namespace: "default", name: "web")
                #expect(after?.value(at: ["status", "disruptedPods"]) == nil, "the evicted pod is gone: \(String(describing: after?.json))")

                // A selected pod whose controller cannot be found fails the sync safe.
                _ = try await cluster.client.create(.pods, namespace: "default", Self.object("""
                    {"metadata":{"name":"orphan","labels":{"app":"web"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet",
                      "name":"gone","uid":"no-such-uid","controller":true}]},"spec":{"containers":[{"name":"c","image":"busybox"}]}}
                    """))
                let failed = try await eventually(within: 60, { try await cluster.client.get(.podDisruptionBudgets, namespace: "default", name: "web") }) {
                    $0?.value(at: ["status", "conditions"])?.arrayValue?.first?["reason"]?.stringValue == "SyncFailed"
                }
                let failure = failed?.value(at: ["status", "conditions"])?.arrayValue?.first
                #expect(failure?["message"]?.stringValue == #"found no controllers for pod "orphan""# && failure?["status"]?.stringValue == "False")
                #expect(failed?.value(at: ["status", "disruptionsAllowed"])?.intValue == 0)
            }
        }
    }

    /// A pod left with the DisruptionTarget condition of an eviction that did not delete it gets
    /// the condition set False once it is stale (a 1 s timeout here instead of two minutes);
    /// the kubelet's own condition and terminating pods are left alone.
    @Test func staleDisruptionTargetConditionsAreCleared() async throws {
        try await withTestAPI { api in
            let client = api.client
            var logger = Logger(label: "disruption-test")
            logger.logLevel = .critical
            let informers = Informers(client: client, logger: logger)
            let controller = DisruptionController(client: client, informers: informers, logger: logger, stalePodDisruptionTimeout: .seconds(1))
            let running = Task {
                await withTaskGroup(of: Void.self) { group in
                    let all = informers.all
                    for informer in all { group.addTask { await informer.run() } }
                    for informer in all { await informer.waitForSync() }
                    group.addTask { await controller.run() }
                }
            }
            let result: Result<Void, any Error>
            do {
                for (name, reason) in [("left", "EvictionByEvictionAPI"), ("kubelet", "TerminationByKubelet")] {
                    _ = try await client.create(.pods, namespace: "default", Self.object(#"{"metadata":{"name":"\#(name)"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox"}]}}"#))
                    _ = try await client.patch(.pods, namespace: "default", name: name, .object(["status": .object([
                        "phase": .string("Running"),
                        "conditions": .array([.object(["type": .string("DisruptionTarget"), "status": .string("True"), "reason": .string(reason),
                                                       "message": .string("test"), "lastTransitionTime": .string(Time.now().description)])]),
                    ])]), subresource: "status")
                }
                let cleared = try await eventually(within: 20, { try await client.get(.pods, namespace: "default", name: "left") }) {
                    $0?.value(at: ["status", "conditions"])?.arrayValue?.first?["status"]?.stringValue == "False"
                }
                let condition = cleared?.value(at: ["status", "conditions"])?.arrayValue?.first
                #expect(condition?["status"]?.stringValue == "False" && condition?["reason"] == nil, "\(String(describing: condition))")
                let kubelet = try await client.get(.pods, namespace: "default", name: "kubelet")
                #expect(kubelet?.value(at: ["status", "conditions"])?.arrayValue?.first?["status"]?.stringValue == "True")
                result = .success(())
            } catch {
                result = .failure(error)
            }
            running.cancel()
            await running.value
            try result.get()
        }
    }
}

/// `eventually` that fails the test when the condition never held (`eventually` returns the
/// last value either way, for the caller's `#expect`).
private func waitUntil<T: Sendable>(within seconds: Double = 30, _ probe: @Sendable () async throws -> T,
                                  until condition: @Sendable (T) -> Bool,
                                  sourceLocation: SourceLocation = #_sourceLocation) async throws -> T {
    let value = try await eventually(within: seconds, probe, until: condition)
    #expect(condition(value), "never held: \(value)", sourceLocation: sourceLocation)
    return value
}
