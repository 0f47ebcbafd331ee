@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Testing

/// Issue 17: the scheduler's priority order and default preemption. The pure parts (victim
/// selection with PodDisruptionBudgets, the choice of node, the queue order) on plain objects;
/// the whole path with the controllers running over the real store: a node full of
/// low-priority pods, a high-priority pod that preempts (DisruptionTarget condition, graceful
/// deletion, Preempted event, nominatedNodeName, bound once the victim is gone), and a
/// preemptionPolicy Never pod that waits instead.
@Suite struct SchedulerPreemptionTests {
    static func node(_ name: String, cpu: String = "3", pods: Int = 110) -> KubeObject {
        var node = KubeObject(fields: ["metadata": .object(["name": .string(name)]), "spec": .object([:])])
        node.set(.object(["cpu": .string(cpu), "memory": .string("8Gi"), "pods": .string(String(pods))]), at: ["status", "allocatable"])
        node.set(.array([.object(["type": .string("Ready"), "status": .string("True")])]), at: ["status", "conditions"])
        return node
    }

    static func pod(_ name: String, priority: Int64, cpu: String, labels: [String: String] = [:], started: String? = nil) -> KubeObject {
        var metadata: [String: JSONValue] = ["name": .string(name), "namespace": .string("default"), "uid": .string("uid-\(name)")]
        if !labels.isEmpty { metadata["labels"] = .object(labels.mapValues { .string($0) }) }
        var pod = KubeObject(fields: ["metadata": .object(metadata), "spec": .object([
            "priority": .int(priority),
            "containers": .array([.object(["name": .string("app"), "resources": .object(["requests": .object(["cpu": .string(cpu)])])])]),
        ])])
        if let started { pod.set(.string(started), at: ["status", "startTime"]) }
        return pod
    }

    static func budget(selecting labels: [String: String], allowed: Int64, disrupted: [String] = []) -> KubeObject {
        var budget = KubeObject(fields: [
            "metadata": .object(["name": .string("pdb"), "namespace": .string("default")]),
            "spec": .object(["selector": .object(["matchLabels": .object(labels.mapValues { .string($0) })])]),
        ])
        budget.set(.int(allowed), at: ["status", "disruptionsAllowed"])
        if !disrupted.isEmpty {
            budget.set(.object(Dictionary(uniqueKeysWithValues: disrupted.map { ($0, .string("2026-12-03T00:00:00Z")) })),
                       at: ["status", "disruptedPods"])
        }
        return budget
    }

    static func victims(_ result: Result<SchedulerPreemption.Candidate, SchedulerPreemption.NodeFailure>) -> [String] {
        switch result {
        case .success(let candidate): return candidate.victims.compactMap(\.name)
        case .failure(let failure): return ["failed: " + failure.reasons.joined(separator: ", ")]
        }
    }

    @Test func victimsAreTheFewestLeastImportantPodsAndBudgetsAreSparedFirst() {
        let preemptor = Self.pod("big", priority: 100, cpu: "2")
        let requests = SchedulerPredicates.requests(of: preemptor)
        let node = Self.node("n", cpu: "3")
        let protected = Self.pod("protected", priority: 1, cpu: "1", labels: ["app": "db"])
        let middle = Self.pod("middle", priority: 2, cpu: "1")
        let upper = Self.pod("upper", priority: 5, cpu: "1")
        let pods = [protected, middle, upper]
        // Without a budget the most important is reprieved first (upper: 2 cpu left), then
        // nothing else fits back: the two least important go.
        let plain = SchedulerPreemption.selectVictims(pod: preemptor, requests: requests, node: node, pods: pods,
                                                      nominated: SchedulingResources(), budgets: [])
        #expect(Self.victims(plain) == ["middle", "protected"])
        // A budget that allows no disruption makes its pod the first reprieved.
        let budget = Self.budget(selecting: ["app": "db"], allowed: 0)
        let guarded = SchedulerPreemption.selectVictims(pod: preemptor, requests: requests, node: node, pods: pods,
                                                        nominated: SchedulingResources(), budgets: [budget])
        #expect(Self.victims(guarded) == ["upper", "middle"])
        if case .success(let candidate) = guarded { #expect(candidate.budgetViolations == 0) }
        // When the protected pod must go anyway, the violation is counted.
        let bigger = Self.pod("bigger", priority: 100, cpu: "3")
        let forced = SchedulerPreemption.selectVictims(pod: bigger, requests: SchedulerPredicates.requests(of: bigger), node: node, pods: pods,
                                                       nominated: SchedulingResources(), budgets: [budget])
        if case .success(let candidate) = forced {
            #expect(candidate.budgetViolations == 1)
            #expect(candidate.victims.compactMap(\.name) == ["upper", "middle", "protected"])
        } else {
            Issue.record("expected a candidate: \(forced)")
        }
        // A pod the eviction subresource already counted in disruptedPods takes nothing more.
        let counted = Self.budget(selecting: ["app": "db"], allowed: 0, disrupted: ["protected"])
        #expect(SchedulerPreemption.splitByBudgetViolation([protected], budgets: [counted]).violating.isEmpty)
        #expect(SchedulerPreemption.splitByBudgetViolation([protected], budgets: [budget]).violating.compactMap(\.name) == ["protected"])
    }

    @Test func nodesWithoutLowerPriorityPodsOrRoomAreNoCandidates() {
        let preemptor = Self.pod("p", priority: 10, cpu: "2")
        let requests = SchedulerPredicates.requests(of: preemptor)
        // Only equal or higher priority pods: nothing to preempt.
        let equal = SchedulerPreemption.selectVictims(pod: preemptor, requests: requests, node: Self.node("n", cpu: "2"),
                                                      pods: [Self.pod("same", priority: 10, cpu: "2")],
                                                      nominated: SchedulingResources(), budgets: [])
        #expect(Self.victims(equal) == ["failed: No preemption victims found for incoming pod"])
        // Lower-priority pods whose removal is not enough: the filter's own reason.
        let tooSmall = SchedulerPreemption.selectVictims(pod: preemptor, requests: requests, node: Self.node("n", cpu: "3"),
                                                         pods: [Self.pod("low", priority: 1, cpu: "1"), Self.pod("high", priority: 50, cpu: "2")],
                                                         nominated: SchedulingResources(), budgets: [])
        #expect(Self.victims(tooSmall) == ["failed: Insufficient cpu"])
        // Room held for a nominated pod of higher priority counts as used.
        let held = SchedulerPreemption.selectVictims(pod: preemptor, requests: requests, node: Self.node("n", cpu: "2"),
                                                     pods: [Self.pod("low", priority: 1, cpu: "1")],
                                                     nominated: SchedulingResources(milliCPU: 1000, pods: 1), budgets: [])
        #expect(Self.victims(held) == ["failed: Insufficient cpu"])
        // A pod already being deleted is no victim, and still holds its cpu.
        var leaving = Self.pod("leaving", priority: 1, cpu: "2")
        leaving.deletionTimestamp = "2026-12-03T00:00:00Z"
        let going = SchedulerPreemption.selectVictims(pod: preemptor, requests: requests, node: Self.node("n", cpu: "2"),
                                                      pods: [leaving], nominated: SchedulingResources(), budgets: [])
        #expect(Self.victims(going) == ["failed: No preemption victims found for incoming pod"])
    }

    @Test func theNodePickedHasFewestViolationsThenLowestPrioritiesThenFewestVictimsThenLatestStart() {
        func candidate(_ node: String, _ victims: [KubeObject], violations: Int = 0) -> SchedulerPreemption.Candidate {
            SchedulerPreemption.Candidate(node: node, victims: victims, budgetViolations: violations)
        }
        let low = Self.pod("low", priority: 1, cpu: "1", started: "2026-12-01T00:00:00Z")
        let mid = Self.pod("mid", priority: 5, cpu: "1", started: "2026-12-01T00:00:00Z")
        let lowLate = Self.pod("low-late", priority: 1, cpu: "1", started: "2026-12-02T00:00:00Z")
        #expect(SchedulerPreemption.pickOne([candidate("a", [low], violations: 1), candidate("b", [mid])])?.node == "b")
        #expect(SchedulerPreemption.pickOne([candidate("a", [mid]), candidate("b", [low, low])])?.node == "b")
        #expect(SchedulerPreemption.pickOne([candidate("a", [low, low]), candidate("b", [low])])?.node == "b")
        #expect(SchedulerPreemption.pickOne([candidate("a", [low]), candidate("b", [lowLate])])?.node == "b")
        #expect(SchedulerPreemption.pickOne([candidate("a", [low]), candidate("b", [low])])?.node == "a")
        #expect(SchedulerPreemption.pickOne([]) == nil)
        // Negative priorities count below zero in the sum (upstream's MaxInt32+1 offset).
        let negative = Self.pod("neg", priority: -100, cpu: "1")
        #expect(SchedulerPreemption.pickOne([candidate("a", [low]), candidate("b", [negative, negative])])?.node == "b")
    }

    @Test func theQueueHandsOutTheHighestPriorityFirst() async {
        let priorities: [String: Int64] = ["low": 1, "high": 100, "mid": 50, "also-high": 100]
        let queue = WorkQueue(priority: { priorities[$0] ?? 0 })
        for key in ["low", "high", "mid", "also-high"] { await queue.add(key) }
        var order: [String] = []
        for _ in 0..<4 {
            guard let key = await queue.next() else { break }
            order.append(key)
            await queue.done(key)
        }
        #expect(order == ["high", "also-high", "mid", "low"])
    }

    @Test func keysAddedTogetherGoToAWaitingWorkerBestFirst() async {
        let priorities: [String: Int64] = ["low": 1, "high": 100]
        let queue = WorkQueue(priority: { priorities[$0] ?? 0 })
        // A worker already waiting: with one add per key it got "low", the first added.
        async let first = queue.next()
        while await queue.waitingWorkers == 0 { await Task.yield() }
        await queue.add(contentsOf: ["low", "high"])
        #expect(await first == "high")
        #expect(await queue.next() == "low")
    }

    @Test func theSchedulersOwnStatusWriteIsNoReasonToRetry() {
        var pod = Self.pod("p", priority: 1, cpu: "1")
        pod.set(.array([.object(["manager": .string("swiftlet-scheduler"), "operation": .string("Update")])]), at: ["metadata", "managedFields"])
        var written = pod
        written.set(.object(["conditions": .array([.object(["type": .string("PodScheduled"), "status": .string("False")])])]), at: ["status"])
        written.set(.array([.object(["manager": .string("swiftlet-scheduler"), "subresource": .string("status")])]), at: ["metadata", "managedFields"])
        written.resourceVersion = "9"
        #expect(!Scheduler.isPodUpdated(old: pod, new: written))
        var relabelled = written
        relabelled.set(.object(["tier": .string("gold")]), at: ["metadata", "labels"])
        #expect(Scheduler.isPodUpdated(old: written, new: relabelled))
    }

    @Test func whenRoomAppearsTheHigherPriorityPendingPodGetsIt() async throws {
        // Only the node's arrival may bring the pods back: the periodic retry (2 s in tests)
        // could pick up the low one alone just as the node appears, and it would then rightly
        // get the room (kube-scheduler's backoff has the same race; failed once under load).
        var settings = ControllerSettings.forTests
        settings.schedulerRetryPeriod = .seconds(3600)
        try await withControllerCluster(settings: settings) { cluster in
            for (name, value) in [("low", 10), ("high", 1000)] {
                _ = try await cluster.client.create(.priorityClasses, namespace: nil, KubeObject(fields: [
                    "metadata": .object(["name": .string(name)]), "value": .int(Int64(value)),
                ]))
            }
            // Both wait for a node; the low one came first.
            try await cluster.addPod("early-low", cpu: "1", extraSpec: ["priorityClassName": .string("low")])
            try await cluster.addPod("late-high", cpu: "1", extraSpec: ["priorityClassName": .string("high")])
            for name in ["early-low", "late-high"] {
                _ = try await eventually({
                    try await cluster.pod(name)?.value(at: ["status", "conditions"])?.arrayValue?
                        .first { $0["type"]?.stringValue == "PodScheduled" }?["message"]?.stringValue ?? ""
                }, until: { $0 == "no nodes available to schedule pods" })
            }
            try await cluster.addNode("n1", cpu: "1")
            _ = try await eventually({ try await cluster.pod("late-high")?.string(at: ["spec", "nodeName"]) ?? "" }, until: { $0 == "n1" })
            // The low one stays pending and cannot preempt the higher one.
            let message = try await eventually({
                try await cluster.pod("early-low")?.value(at: ["status", "conditions"])?.arrayValue?
                    .first { $0["type"]?.stringValue == "PodScheduled" }?["message"]?.stringValue ?? ""
            }, until: { $0.hasPrefix("0/1") })
            #expect(message == "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.")
            #expect(try await cluster.pod("early-low")?.string(at: ["spec", "nodeName"]) == nil)
            #expect(try await cluster.pod("late-high")?.deletionTimestamp == nil)
        }
    }

    @Test func preemptionPrefersTheNodeWhereNoBudgetIsViolated() async throws {
        try await withControllerCluster { cluster in
            for (name, value) in [("low", 10), ("high", 1000)] {
                _ = try await cluster.client.create(.priorityClasses, namespace: nil, KubeObject(fields: [
                    "metadata": .object(["name": .string(name)]), "value": .int(Int64(value)),
                ]))
            }
            try await cluster.addNode("guarded", cpu: "1")
            try await cluster.addNode("open", cpu: "1")
            let low: [String: JSONValue] = ["priorityClassName": .string("low")]
            // Pinned, one per node; only the first is selected by a budget that allows no disruption
            // (minAvailable 1 of one pod: 0 allowed, whether or not the controller has written it yet).
            try await cluster.addPod("db", cpu: "1", labels: ["app": "db"], nodeName: "guarded", extraSpec: low)
            try await cluster.addPod("batch", cpu: "1", labels: ["app": "batch"], nodeName: "open", extraSpec: low)
            _ = try await cluster.client.create(.podDisruptionBudgets, namespace: "default", KubeObject(fields: [
                "metadata": .object(["name": .string("db")]),
                "spec": .object(["minAvailable": .int(1), "selector": .object(["matchLabels": .object(["app": .string("db")])])]),
            ]))
            try await cluster.addPod("urgent", cpu: "1", extraSpec: ["priorityClassName": .string("high")])
            let nominated = try await eventually({ try await cluster.pod("urgent")?.string(at: ["status", "nominatedNodeName"]) ?? "" },
                                                 until: { !$0.isEmpty })
            #expect(nominated == "open")
            #expect(try await cluster.pod("batch")?.deletionTimestamp != nil)
            #expect(try await cluster.pod("db")?.deletionTimestamp == nil)
        }
    }

    @Test func aHighPriorityPodPreemptsAndANeverPodWaits() async throws {
        try await withControllerCluster { cluster in
            for (name, body) in [("low", #""value":10"#), ("high", #""value":1000"#), ("polite", #""value":1000,"preemptionPolicy":"Never""#)] {
                guard case .object(var fields) = try json("{\(body)}") else { continue }
                fields["metadata"] = .object(["name": .string(name)])
                _ = try await cluster.client.create(.priorityClasses, namespace: nil, KubeObject(fields: fields))
            }
            try await cluster.addNode("n1", cpu: "2")
            let low: [String: JSONValue] = ["priorityClassName": .string("low")]
            try await cluster.addPod("low-1", cpu: "1", extraSpec: low)
            try await cluster.addPod("low-2", cpu: "1", extraSpec: low)
            for name in ["low-1", "low-2"] {
                _ = try await eventually({ try await cluster.pod(name)?.string(at: ["spec", "nodeName"]) ?? "" }, until: { $0 == "n1" })
            }

            let preemptor = try await cluster.addPod("urgent", cpu: "1", extraSpec: ["priorityClassName": .string("high")])
            #expect(preemptor.value(at: ["spec", "priority"]) == .int(1000))
            // One victim is enough: it gets the condition and a deletionTimestamp (graceful: it is on a node).
            let victims = try await eventually({
                try await cluster.client.list(.pods, namespace: "default").items.filter { $0.deletionTimestamp != nil }
            }, until: { !$0.isEmpty })
            #expect(victims.count == 1)
            let victim = try #require(victims.first)
            #expect(victim.name?.hasPrefix("low-") == true)
            let condition = victim.value(at: ["status", "conditions"])?.arrayValue?.first { $0["type"]?.stringValue == "DisruptionTarget" }
            #expect(condition?["status"]?.stringValue == "True")
            #expect(condition?["reason"]?.stringValue == "PreemptionByScheduler")
            #expect(condition?["message"]?.stringValue == "default-scheduler: preempting to accommodate a higher priority pod")
            let nominated = try await eventually({ try await cluster.pod("urgent")?.string(at: ["status", "nominatedNodeName"]) ?? "" },
                                                 until: { !$0.isEmpty })
            #expect(nominated == "n1")
            // The failure that nominated it has only the fit part (later retries say the victim is terminating).
            // (The event is recorded after the status write that carries the nomination.)
            let failures = try await eventually({
                try await cluster.events(about: "urgent", reason: "FailedScheduling").compactMap { $0.string(at: ["message"]) }
            }, until: { $0.contains("0/1 nodes are available: 1 Insufficient cpu.") })
            #expect(failures.contains("0/1 nodes are available: 1 Insufficient cpu."), "\(failures)")
            let events = try await eventually({ try await cluster.events(about: victim.name ?? "", reason: "Preempted") }, until: { !$0.isEmpty })
            #expect(events.first?.string(at: ["message"]) == "Preempted by pod \(preemptor.uid ?? "") on node n1")
            // Not bound while the victim is still terminating.
            #expect(try await cluster.pod("urgent")?.string(at: ["spec", "nodeName"]) == nil)

            // The kubelet's part: the victim's containers stopped, the pod goes.
            try await cluster.client.delete(.pods, namespace: "default", name: victim.name ?? "", gracePeriodSeconds: 0)
            _ = try await eventually({ try await cluster.pod("urgent")?.string(at: ["spec", "nodeName"]) ?? "" }, until: { $0 == "n1" })
            let survivor = victim.name == "low-1" ? "low-2" : "low-1"
            #expect(try await cluster.pod(survivor)?.deletionTimestamp == nil)

            // A Never pod of the same priority does not preempt the survivor.
            try await cluster.addPod("waits", cpu: "1", extraSpec: ["priorityClassName": .string("polite")])
            let message = try await eventually({
                try await cluster.pod("waits")?.value(at: ["status", "conditions"])?.arrayValue?
                    .first { $0["type"]?.stringValue == "PodScheduled" }?["message"]?.stringValue ?? ""
            }, until: { !$0.isEmpty })
            #expect(message == "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await cluster.pod(survivor)?.deletionTimestamp == nil)
            #expect(try await cluster.pod("waits")?.string(at: ["status", "nominatedNodeName"]) == nil)

            // A preempting pod of that priority takes the survivor's place, and the room it
            // was nominated to is held for it against the Never pod, pending all along.
            try await cluster.addPod("peer", cpu: "1", extraSpec: ["priorityClassName": .string("high")])
            _ = try await eventually({ try await cluster.pod("peer")?.string(at: ["status", "nominatedNodeName"]) ?? "" }, until: { $0 == "n1" })
            #expect(try await cluster.pod(survivor)?.deletionTimestamp != nil)
            try await cluster.client.delete(.pods, namespace: "default", name: survivor, gracePeriodSeconds: 0)
            _ = try await eventually({ try await cluster.pod("peer")?.string(at: ["spec", "nodeName"]) ?? "" }, until: { $0 == "n1" })
            #expect(try await cluster.pod("waits")?.string(at: ["spec", "nodeName"]) == nil)
        }
    }
}
