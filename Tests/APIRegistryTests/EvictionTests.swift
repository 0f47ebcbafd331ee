@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// The pods/eviction subresource (`APIService.evict`) against real budgets in the store: the
/// budget's status decides, is decremented and records the pod; the refusals carry
/// kube-apiserver's codes, messages and causes. The disruption controller does not run here:
/// the tests write budget statuses as it would.
@Suite struct EvictionTests {
    static func eviction(_ name: String, apiVersion: String = "policy/v1", kind: String = "Eviction", deleteOptions: String? = nil) -> KubeObject {
        let options = deleteOptions.map { #","deleteOptions":\#($0)"# } ?? ""
        let text = #"{"apiVersion":"\#(apiVersion)","kind":"\#(kind)","metadata":{"name":"\#(name)","namespace":"default"}\#(options)}"#
        guard case .object(let fields)? = try? JSONParser.parse(Array(text.utf8)) else { return KubeObject(fields: [:]) }
        return KubeObject(fields: fields)
    }

    /// A pod labelled app=web, Running, Ready or not.
    @discardableResult
    static func runningPod(_ api: TestAPI, _ name: String, ready: Bool = true, phase: String = "Running") async throws -> KubeObject {
        _ = try await api.client.create(.pods, namespace: "default", KubeObject(fields: [
            "metadata": .object(["name": .string(name), "labels": .object(["app": .string("web")])]),
            "spec": .object(["nodeName": .string("n1"), "containers": .array([.object(["name": .string("c"), "image": .string("busybox")])])]),
        ]))
        let now = JSONValue.string(Time.now().description)
        return try await api.client.patch(.pods, namespace: "default", name: name, .object(["status": .object([
            "phase": .string(phase),
            "conditions": .array([.object(["type": .string("Ready"), "status": .string(ready ? "True" : "False"), "lastTransitionTime": now])]),
        ])]), subresource: "status")
    }

    /// A budget over app=web with the status the disruption controller would write.
    @discardableResult
    static func budget(_ api: TestAPI, _ name: String = "web", allowed: Int64, current: Int64 = 3, desired: Int64 = 2,
                       observed: Int64 = 1, spec: String = #""minAvailable":2"#) async throws -> KubeObject {
        let created = try await api.client.create(.podDisruptionBudgets, namespace: "default", PodDisruptionBudgetValidationTests.budget(
            name, spec: spec + #","selector":{"matchLabels":{"app":"web"}}"#))
        var withStatus = created
        withStatus.set(.object(["disruptionsAllowed": .int(allowed), "currentHealthy": .int(current), "desiredHealthy": .int(desired),
                                "expectedPods": .int(3), "observedGeneration": .int(observed)]), at: ["status"])
        return try await api.client.update(.podDisruptionBudgets, withStatus, subresource: "status")
    }

    private func evictError(_ api: TestAPI, _ eviction: KubeObject, name: String) async -> APIError? {
        do {
            _ = try await api.service.evict(namespace: "default", name: name, eviction: eviction, context: api.service.context())
            return nil
        } catch {
            return error
        }
    }

    @Test func withoutABudgetThePodIsDeletedGracefully() async throws {
        try await withTestAPI { api in
            try await Self.runningPod(api, "a")
            let status = try await api.service.evict(namespace: "default", name: "a", eviction: Self.eviction("a"), context: api.service.context())
            #expect(status["status"]?.stringValue == "Success" && status["code"]?.intValue == 201)
            let pod = try #require(try await api.client.get(.pods, namespace: "default", name: "a"))
            #expect(pod.deletionTimestamp != nil, "a running pod goes through its grace period")
            let condition = pod.value(at: ["status", "conditions"])?.arrayValue?.first { $0["type"]?.stringValue == "DisruptionTarget" }
            #expect(condition?["reason"]?.stringValue == "EvictionByEvictionAPI" && condition?["status"]?.stringValue == "True")

            let missing = await evictError(api, Self.eviction("nope"), name: "nope")
            #expect(missing?.code == 404 && missing?.message == #"pods "nope" not found"#, "\(String(describing: missing))")
        }
    }

    @Test func aBudgetAllowsOneAndThenRefuses() async throws {
        try await withTestAPI { api in
            for name in ["a", "b", "c"] { try await Self.runningPod(api, name) }
            try await Self.budget(api, allowed: 1)
            _ = try await api.service.evict(namespace: "default", name: "a", eviction: Self.eviction("a"), context: api.service.context())
            let budget = try #require(try await api.client.get(.podDisruptionBudgets, namespace: "default", name: "web"))
            #expect(budget.value(at: ["status", "disruptionsAllowed"])?.intValue == 0)
            #expect(budget.value(at: ["status", "disruptedPods", "a"])?.stringValue != nil, "\(budget.json)")
            let condition = budget.value(at: ["status", "conditions"])?.arrayValue?.first
            #expect(condition?["type"]?.stringValue == "DisruptionAllowed" && condition?["reason"]?.stringValue == "InsufficientPods"
                    && condition?["status"]?.stringValue == "False", "\(budget.json)")

            let refused = await evictError(api, Self.eviction("b"), name: "b")
            #expect(refused?.code == 429 && refused?.reason == "TooManyRequests", "\(String(describing: refused))")
            #expect(refused?.message == "Cannot evict pod as it would violate the pod's disruption budget.")
            #expect(refused?.details?.causes == [APIError.Cause(reason: "DisruptionBudget", message: "The disruption budget web needs 2 healthy pods and has 3 currently")],
                    "\(String(describing: refused?.details))")
            let b = try await api.client.get(.pods, namespace: "default", name: "b")
            #expect(b?.deletionTimestamp == nil, "a refused eviction deletes nothing")
        }
    }

    @Test func unobservedBudgetsSeveralBudgetsAndDryRuns() async throws {
        try await withTestAPI { api in
            try await Self.runningPod(api, "a")
            try await Self.budget(api, allowed: 1, observed: 0)
            let unobserved = await evictError(api, Self.eviction("a"), name: "a")
            #expect(unobserved?.code == 429)
            #expect(unobserved?.details?.causes.first?.message == "The disruption budget web is still being processed by the server.")

            try await Self.budget(api, "web-too", allowed: 1)
            let two = await evictError(api, Self.eviction("a"), name: "a")
            #expect(two?.code == 500 && two?.message == "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                    "\(String(describing: two))")
            _ = try await api.client.delete(.podDisruptionBudgets, namespace: "default", name: "web")

            // A dry run (in the query or the Eviction's DeleteOptions) changes nothing.
            let dry = try await api.service.evict(namespace: "default", name: "a", eviction: Self.eviction("a", deleteOptions: #"{"dryRun":["All"]}"#),
                                                  context: api.service.context())
            #expect(dry["status"]?.stringValue == "Success")
            #expect(try await api.client.get(.pods, namespace: "default", name: "a")?.deletionTimestamp == nil)
            let budget = try await api.client.get(.podDisruptionBudgets, namespace: "default", name: "web-too")
            #expect(budget?.value(at: ["status", "disruptionsAllowed"])?.intValue == 1 && budget?.value(at: ["status", "disruptedPods"]) == nil)
        }
    }

    @Test func podsThatNeedNoBudget() async throws {
        try await withTestAPI { api in
            try await Self.budget(api, allowed: 0, current: 1, desired: 3)
            // Pending and finished pods go whatever the budget says.
            try await Self.runningPod(api, "pending", ready: false, phase: "Pending")
            try await Self.runningPod(api, "done", ready: false, phase: "Succeeded")
            for name in ["pending", "done"] {
                _ = try await api.service.evict(namespace: "default", name: name, eviction: Self.eviction(name), context: api.service.context())
            }
            #expect(try await api.client.get(.pods, namespace: "default", name: "pending")?.deletionTimestamp != nil)
            #expect(try await api.client.get(.pods, namespace: "default", name: "done") == nil, "a finished pod has no grace period")

            // An unready running pod of a budget that is not met is protected (IfHealthyBudget)...
            try await Self.runningPod(api, "unready", ready: false)
            #expect(await evictError(api, Self.eviction("unready"), name: "unready")?.code == 429)
            // ...unless the budget says AlwaysAllow; no disruption is used for it.
            var budget = try #require(try await api.client.get(.podDisruptionBudgets, namespace: "default", name: "web"))
            budget.set(.string("AlwaysAllow"), at: ["spec", "unhealthyPodEvictionPolicy"])
            budget = try await api.client.update(.podDisruptionBudgets, budget, subresource: nil)
            budget.set(.int(2), at: ["status", "observedGeneration"])
            _ = try await api.client.update(.podDisruptionBudgets, budget, subresource: "status")
            _ = try await api.service.evict(namespace: "default", name: "unready", eviction: Self.eviction("unready"), context: api.service.context())
            #expect(try await api.client.get(.pods, namespace: "default", name: "unready")?.deletionTimestamp != nil)
            let after = try await api.client.get(.podDisruptionBudgets, namespace: "default", name: "web")
            #expect(after?.value(at: ["status", "disruptedPods"]) == nil)
        }
    }

    @Test func hostileEvictions() async throws {
        try await withTestAPI { api in
            try await Self.runningPod(api, "a")
            let otherName = await evictError(api, Self.eviction("b"), name: "a")
            #expect(otherName?.code == 400 && otherName?.message == "name in URL does not match name in Eviction object")
            let wrongVersion = await evictError(api, Self.eviction("a", apiVersion: "apps/v1"), name: "a")
            #expect(wrongVersion?.code == 400 && wrongVersion?.message == "the API version in the data (apps/v1) does not match the expected API version (policy/v1)",
                    "\(String(describing: wrongVersion))")
            let wrongKind = await evictError(api, Self.eviction("a", kind: "Pod"), name: "a")
            #expect(wrongKind?.code == 400 && wrongKind?.message.contains("the kind in the data (Pod)") == true)
            let badGrace = await evictError(api, Self.eviction("a", deleteOptions: #"{"gracePeriodSeconds":"soon"}"#), name: "a")
            #expect(badGrace?.code == 400 && badGrace?.message.hasPrefix("Eviction in version \"v1\" cannot be handled as a Eviction: ") == true,
                    "\(String(describing: badGrace))")
            let badDryRun = await evictError(api, Self.eviction("a", deleteOptions: #"{"dryRun":["Later"]}"#), name: "a")
            #expect(badDryRun?.code == 422 && badDryRun?.message.contains(#"deleteOptions.dryRun[0]: Unsupported value: "Later""#) == true,
                    "\(String(describing: badDryRun))")
            let badUID = await evictError(api, Self.eviction("a", deleteOptions: #"{"preconditions":{"uid":"not-the-uid"}}"#), name: "a")
            #expect(badUID?.code == 409 && badUID?.message.contains("Precondition failed: UID in precondition: not-the-uid") == true,
                    "\(String(describing: badUID))")
            // Out-of-range numbers are refused while decoding; the largest grace period is taken.
            let overflow = await evictError(api, Self.eviction("a", deleteOptions: #"{"gracePeriodSeconds":99999999999999999999}"#), name: "a")
            #expect(overflow?.code == 400, "\(String(describing: overflow))")
            try await Self.runningPod(api, "slow")
            _ = try await api.service.evict(namespace: "default", name: "slow", eviction: Self.eviction("slow", deleteOptions: #"{"gracePeriodSeconds":9223372036854775807}"#),
                                            context: api.service.context())
            #expect(try await api.client.get(.pods, namespace: "default", name: "slow")?.deletionTimestamp != nil)
            // policy/v1beta1 bodies (kubectl before 1.22 on servers without policy/v1) are accepted.
            _ = try await api.service.evict(namespace: "default", name: "a", eviction: Self.eviction("a", apiVersion: "policy/v1beta1"),
                                            context: api.service.context())
            #expect(try await api.client.get(.pods, namespace: "default", name: "a")?.deletionTimestamp != nil)
        }
    }
}
