import ControllerRuntime
import APIMachinery
import Foundation
import KubeAPI

/// kube-scheduler's default preemption (the DefaultPreemption PostFilter plugin,
/// pkg/scheduler/framework/plugins/defaultpreemption, over pkg/scheduler/framework/preemption),
/// as pure functions over plain objects; `Scheduler` carries out what they decide.
///
/// For a pod that fits nowhere, each node whose failure preemption might cure (resources, not
/// taints or affinity) is dry-run: without every pod of lower priority, does the pod fit? If
/// so, victims are reprieved one by one, most important first and those whose eviction would
/// violate a PodDisruptionBudget before the others, as long as the pod still fits. Of the
/// nodes left, the one with the fewest budget violations, then the lowest highest victim
/// priority, the lowest sum of priorities, the fewest victims, the latest start among its
/// highest-priority victims wins (`pickOneNodeForPreemption`).
enum SchedulerPreemption {
    /// A node where preemption makes room: its victims (most important first) and how many of
    /// them a PodDisruptionBudget protects.
    struct Candidate: Sendable {
        var node: String
        var victims: [KubeObject]
        var budgetViolations: Int
    }

    /// What the dry run found: a node to nominate, or per node why not (the reasons the
    /// "preemption:" part of the scheduling failure counts).
    enum Outcome: Sendable {
        case candidate(Candidate)
        case noCandidate(reasons: [[String]])
    }

    static let notHelpfulReason = "Preemption is not helpful for scheduling"
    static let noVictimsReason = "No preemption victims found for incoming pod"
    static let neverMessage = "not eligible due to preemptionPolicy=Never."
    static let terminatingVictimMessage = "not eligible due to a terminating pod on the nominated node."
    /// `v1.PodReasonPreemptionByScheduler`, the DisruptionTarget reason of a victim.
    static let disruptionReason = "PreemptionByScheduler"

    /// `spec.priority` (0 when unset, as `corev1helpers.PodPriority`).
    static func priority(of pod: KubeObject) -> Int64 {
        pod.value(at: ["spec", "priority"])?.intValue ?? 0
    }

    /// `PodEligibleToPreemptOthers`: nil when the pod may preempt, else the message. A pod
    /// already nominated to a node where a lower-priority pod is still terminating because of
    /// preemption waits for it instead of preempting again.
    static func ineligibility(of pod: KubeObject, podsOnNominatedNode: [KubeObject], nominatedNodeResolvable: Bool) -> String? {
        if pod.string(at: ["spec", "preemptionPolicy"]) == PriorityClass.preemptNever { return neverMessage }
        guard !(pod.string(at: ["status", "nominatedNodeName"]) ?? "").isEmpty, nominatedNodeResolvable else { return nil }
        let own = priority(of: pod)
        if podsOnNominatedNode.contains(where: { priority(of: $0) < own && isTerminatingByPreemption($0) }) {
            return terminatingVictimMessage
        }
        return nil
    }

    /// `podTerminatingByPreemption`: being deleted, with a DisruptionTarget condition the
    /// scheduler wrote.
    static func isTerminatingByPreemption(_ pod: KubeObject) -> Bool {
        guard pod.deletionTimestamp != nil else { return false }
        let conditions = pod.value(at: ["status", "conditions"])?.arrayValue ?? []
        return conditions.contains {
            $0["type"]?.stringValue == "DisruptionTarget" && $0["status"]?.stringValue == "True"
                && $0["reason"]?.stringValue == disruptionReason
        }
    }

    /// The dry run over every node (`findCandidates` and `SelectCandidate`).
    /// - Parameters:
    ///   - verdicts: each node's filter verdict for the pod, in `nodes` order.
    ///   - podsByNode: the pods counted on each node (bound or assumed, not terminal).
    ///   - nominatedUsage: requests of higher-or-equal priority pods nominated to each node.
    ///   - budgets: every PodDisruptionBudget.
    static func evaluate(pod: KubeObject, requests: SchedulingResources, nodes: [KubeObject], verdicts: [SchedulerPredicates.Verdict],
                         podsByNode: [String: [KubeObject]], nominatedUsage: [String: SchedulingResources],
                         budgets: [KubeObject]) -> Outcome {
        var reasons: [[String]] = []
        var candidates: [Candidate] = []
        for (node, verdict) in zip(nodes, verdicts) {
            let name = node.name ?? ""
            guard verdict.resolvable else {
                reasons.append([notHelpfulReason])
                continue
            }
            switch selectVictims(pod: pod, requests: requests, node: node, pods: podsByNode[name] ?? [],
                                 nominated: nominatedUsage[name] ?? SchedulingResources(), budgets: budgets) {
            case .success(let candidate): candidates.append(candidate)
            case .failure(let failure): reasons.append(failure.reasons)
            }
        }
        guard let chosen = pickOne(candidates) else { return .noCandidate(reasons: reasons) }
        return .candidate(chosen)
    }

    /// Why one node is no candidate.
    struct NodeFailure: Error {
        var reasons: [String]
    }

    /// `SelectVictimsOnNode`. Pods being deleted are not victims (they are going already) but
    /// still hold their resources until they are gone.
    static func selectVictims(pod: KubeObject, requests: SchedulingResources, node: KubeObject, pods: [KubeObject],
                              nominated: SchedulingResources, budgets: [KubeObject]) -> Result<Candidate, NodeFailure> {
        let own = priority(of: pod)
        // Each pod's requests once: the reprieve loop below tries every victim against the sum.
        var used = nominated
        var potential: [KubeObject] = []
        for other in pods {
            if priority(of: other) < own, other.deletionTimestamp == nil {
                potential.append(other)
            } else {
                used = used + SchedulerPredicates.requests(of: other)
            }
        }
        guard !potential.isEmpty else { return .failure(NodeFailure(reasons: [noVictimsReason])) }
        func fits(_ used: SchedulingResources) -> SchedulerPredicates.Verdict {
            SchedulerPredicates.evaluate(pod: pod, requests: requests, node: node, used: used)
        }
        let withoutAll = fits(used)
        guard withoutAll.fits else { return .failure(NodeFailure(reasons: withoutAll.reasons)) }
        potential.sort(by: isMoreImportant)
        let (violating, nonViolating) = splitByBudgetViolation(potential, budgets: budgets)
        var victims: [KubeObject] = []
        var violations = 0
        for (group, violates) in [(violating, true), (nonViolating, false)] {
            for candidate in group {
                let withCandidate = used + SchedulerPredicates.requests(of: candidate)
                if fits(withCandidate).fits {
                    used = withCandidate
                } else {
                    victims.append(candidate)
                    if violates { violations += 1 }
                }
            }
        }
        victims.sort(by: isMoreImportant)
        return .success(Candidate(node: node.name ?? "", victims: victims, budgetViolations: violations))
    }

    /// `filterPodsWithPDBViolation`: in importance order, each pod takes one disruption from
    /// every budget selecting it (unless the eviction subresource already counted it, in
    /// `disruptedPods`); a pod that takes a budget below zero violates it. A budget with a
    /// null or empty selector selects nothing here.
    static func splitByBudgetViolation(_ pods: [KubeObject], budgets: [KubeObject]) -> (violating: [KubeObject], nonViolating: [KubeObject]) {
        var allowed = budgets.map { $0.value(at: ["status", "disruptionsAllowed"])?.intValue ?? 0 }
        let selectors = budgets.map { budget -> LabelSelector? in
            guard let value = budget.value(at: ["spec", "selector"]), value != .null,
                  let selector = try? LabelSelector(object: value), !selector.isEmpty else { return nil }
            return selector
        }
        var violating: [KubeObject] = []
        var nonViolating: [KubeObject] = []
        for pod in pods {
            var violated = false
            let labels = pod.labels
            if !labels.isEmpty {
                for (index, budget) in budgets.enumerated() where budget.namespace == pod.namespace {
                    guard let selector = selectors[index], selector.matches(labels) else { continue }
                    if budget.value(at: ["status", "disruptedPods", pod.name ?? ""]) != nil { continue }
                    allowed[index] -= 1
                    if allowed[index] < 0 { violated = true }
                }
            }
            if violated { violating.append(pod) } else { nonViolating.append(pod) }
        }
        return (violating, nonViolating)
    }

    /// `MoreImportantPod`: higher priority, then the earlier start.
    static func isMoreImportant(_ lhs: KubeObject, _ rhs: KubeObject) -> Bool {
        let left = priority(of: lhs), right = priority(of: rhs)
        if left != right { return left > right }
        return startTime(of: lhs) < startTime(of: rhs)
    }

    /// `GetPodStartTime`: status.startTime; upstream takes "now" for a pod that has not
    /// started, later than any start. One fixed instant after every start orders the same and
    /// keeps the comparison consistent within a sort.
    static func startTime(of pod: KubeObject) -> Date {
        pod.string(at: ["status", "startTime"]).flatMap(Time.init(rfc3339:))?.date ?? .distantFuture
    }

    /// `pickOneNodeForPreemption`, each criterion narrowing the field; the first node left wins.
    static func pickOne(_ candidates: [Candidate]) -> Candidate? {
        if let free = candidates.first(where: { $0.victims.isEmpty }) { return free }
        let offset = Int64(Int32.max) + 1
        let criteria: [(Candidate) -> Double] = [
            { -Double($0.budgetViolations) },
            { -Double($0.victims.first.map(priority(of:)) ?? 0) },
            { -Double($0.victims.reduce(Int64(0)) { $0 + priority(of: $1) + offset }) },
            { -Double($0.victims.count) },
            { earliestStartOfHighestPriority($0.victims).timeIntervalSince1970 },
        ]
        var field = candidates
        for score in criteria where field.count > 1 {
            let best = field.map(score).max() ?? 0
            field = field.filter { score($0) == best }
        }
        return field.first
    }

    /// `GetEarliestPodStartTime`: the earliest start among the victims of the highest priority.
    static func earliestStartOfHighestPriority(_ victims: [KubeObject]) -> Date {
        guard let highest = victims.map(priority(of:)).max() else { return .distantFuture }
        return victims.filter { priority(of: $0) == highest }.map(startTime(of:)).min() ?? .distantFuture
    }
}
