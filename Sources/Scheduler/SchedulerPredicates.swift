import ControllerRuntime
import APIMachinery
import KubeAPI

/// Amounts of the resources the scheduler accounts for, in kube-scheduler's units
/// (`framework.Resource`): millicores, bytes and a pod count.
package struct SchedulingResources: Sendable, Equatable {
    var milliCPU: Int64 = 0
    var memory: Int64 = 0
    var ephemeralStorage: Int64 = 0
    var pods: Int64 = 0

    static func + (lhs: SchedulingResources, rhs: SchedulingResources) -> SchedulingResources {
        SchedulingResources(milliCPU: lhs.milliCPU + rhs.milliCPU, memory: lhs.memory + rhs.memory,
                            ephemeralStorage: lhs.ephemeralStorage + rhs.ephemeralStorage, pods: lhs.pods + rhs.pods)
    }

    /// A resource list (`requests`, `status.allocatable`) as amounts; unparseable quantities count as zero.
    init(list: [String: JSONValue]?) {
        var quantities: ResourceList = [:]
        for (name, value) in list ?? [:] {
            guard let text = value.stringValue ?? value.intValue.map(String.init), let quantity = try? Quantity(text) else { continue }
            quantities[name] = quantity
        }
        self.init(quantities: quantities)
    }

    init(quantities: ResourceList) {
        for (name, quantity) in quantities {
            switch name {
            case "cpu": milliCPU = quantity.milliValue
            case "memory": memory = quantity.value
            case "ephemeral-storage": ephemeralStorage = quantity.value
            case "pods": pods = quantity.value
            default: break
            }
        }
    }

    init(milliCPU: Int64 = 0, memory: Int64 = 0, ephemeralStorage: Int64 = 0, pods: Int64 = 0) {
        self.milliCPU = milliCPU
        self.memory = memory
        self.ephemeralStorage = ephemeralStorage
        self.pods = pods
    }
}

/// A node taint (`v1.Taint`).
package struct NodeTaint: Sendable, Equatable {
    /// The taints the node lifecycle controller puts on a node that is not Ready, or unreachable.
    package static let notReadyKey = "node.kubernetes.io/not-ready"
    package static let unreachableKey = "node.kubernetes.io/unreachable"

    package var key: String
    package var value: String
    package var effect: String
    package var timeAdded: String?

    package init(key: String, value: String = "", effect: String, timeAdded: String? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }

    package init?(json: JSONValue) {
        guard let key = json["key"]?.stringValue, let effect = json["effect"]?.stringValue else { return nil }
        self.init(key: key, value: json["value"]?.stringValue ?? "", effect: effect, timeAdded: json["timeAdded"]?.stringValue)
    }

    package var json: JSONValue {
        var fields: [String: JSONValue] = ["key": .string(key), "effect": .string(effect)]
        if !value.isEmpty { fields["value"] = .string(value) }
        if let timeAdded { fields["timeAdded"] = .string(timeAdded) }
        return .object(fields)
    }

    package static func taints(of node: KubeObject) -> [NodeTaint] {
        (node.value(at: ["spec", "taints"])?.arrayValue ?? []).compactMap(NodeTaint.init(json:))
    }

    /// Whether `toleration` (a pod's `spec.tolerations` entry) tolerates this taint
    /// (`Toleration.ToleratesTaint`): an empty effect or key matches any, `Exists` any value.
    package func isTolerated(by toleration: JSONValue) -> Bool {
        if let effect = toleration["effect"]?.stringValue, !effect.isEmpty, effect != self.effect { return false }
        if let key = toleration["key"]?.stringValue, !key.isEmpty, key != self.key { return false }
        switch toleration["operator"]?.stringValue ?? "" {
        case "Exists": return true
        case "", "Equal": return (toleration["value"]?.stringValue ?? "") == value
        default: return false
        }
    }

    package func isTolerated(byAnyOf tolerations: [JSONValue]) -> Bool {
        tolerations.contains { isTolerated(by: $0) }
    }
}

/// kube-scheduler's filter plugins over plain objects, each answering the reasons a node does
/// not fit in the scheduler's exact words, in the default profile's order: NodeUnschedulable,
/// TaintToleration, NodeAffinity, NodeResourcesFit. Like the framework, a node reports only the
/// first plugin that rejects it.
/// See https://github.com/kubernetes/kubernetes/tree/master/pkg/scheduler/framework/plugins
package enum SchedulerPredicates {
    /// One node's verdict: no reasons means it fits. `resolvable` failures (resources) might be
    /// cured by preemption; the others (`UnschedulableAndUnresolvable`) cannot.
    struct Verdict: Sendable {
        var reasons: [String] = []
        var resolvable = false
        var fits: Bool { reasons.isEmpty }
    }

    static let unschedulableReason = "node(s) were unschedulable"
    static let affinityReason = "node(s) didn't match Pod's node affinity/selector"

    static func evaluate(pod: KubeObject, requests: SchedulingResources, node: KubeObject,
                         used: SchedulingResources) -> Verdict {
        let tolerations = pod.value(at: ["spec", "tolerations"])?.arrayValue ?? []
        // NodeUnschedulable: a cordoned node, unless the pod tolerates the unschedulable taint.
        if node.value(at: ["spec", "unschedulable"])?.boolValue == true,
           !NodeTaint(key: "node.kubernetes.io/unschedulable", effect: "NoSchedule").isTolerated(byAnyOf: tolerations) {
            return Verdict(reasons: [unschedulableReason])
        }
        // TaintToleration: the first NoSchedule/NoExecute taint not tolerated.
        for taint in effectiveTaints(of: node) where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !taint.isTolerated(byAnyOf: tolerations) {
                return Verdict(reasons: ["node(s) had untolerated taint {\(taint.key): \(taint.value)}"])
            }
        }
        // NodeAffinity: nodeSelector and required node affinity.
        if !matchesNodeSelector(pod: pod, node: node) || !matchesRequiredAffinity(pod: pod, node: node) {
            return Verdict(reasons: [affinityReason])
        }
        // NodeResourcesFit.
        let allocatable = SchedulingResources(list: node.value(at: ["status", "allocatable"])?.objectValue)
        var reasons: [String] = []
        if used.pods + 1 > allocatable.pods { reasons.append("Too many pods") }
        if requests.milliCPU > 0, requests.milliCPU > allocatable.milliCPU - used.milliCPU { reasons.append("Insufficient cpu") }
        if requests.memory > 0, requests.memory > allocatable.memory - used.memory { reasons.append("Insufficient memory") }
        if requests.ephemeralStorage > 0, requests.ephemeralStorage > allocatable.ephemeralStorage - used.ephemeralStorage {
            reasons.append("Insufficient ephemeral-storage")
        }
        return Verdict(reasons: reasons, resolvable: true)
    }

    /// The node's taints, plus the ones the node lifecycle controller is about to add for a node
    /// that is not Ready (so a just-failed node is avoided before it is tainted, and the reason
    /// reads the same either way).
    static func effectiveTaints(of node: KubeObject) -> [NodeTaint] {
        var taints = NodeTaint.taints(of: node)
        let implied: String?
        switch readyStatus(of: node) {
        case "True": implied = nil
        case "False": implied = NodeTaint.notReadyKey
        default: implied = NodeTaint.unreachableKey
        }
        if let implied, !taints.contains(where: { $0.key == implied && $0.effect == "NoSchedule" }) {
            taints.append(NodeTaint(key: implied, effect: "NoSchedule"))
        }
        return taints
    }

    /// The status of the node's Ready condition ("Unknown" when it has none).
    package static func readyStatus(of node: KubeObject) -> String {
        let conditions = node.value(at: ["status", "conditions"])?.arrayValue ?? []
        return conditions.first { $0["type"]?.stringValue == "Ready" }?["status"]?.stringValue ?? "Unknown"
    }

    package static func matchesNodeSelector(pod: KubeObject, node: KubeObject) -> Bool {
        let selector = pod.value(at: ["spec", "nodeSelector"])?.objectValue ?? [:]
        let labels = node.labels
        return selector.allSatisfy { key, value in labels[key] == value.stringValue }
    }

    /// `requiredDuringSchedulingIgnoredDuringExecution`: any term matches, each term's
    /// expressions all match (`nodeaffinity.NodeSelector.Match`).
    package static func matchesRequiredAffinity(pod: KubeObject, node: KubeObject) -> Bool {
        guard let required = pod.value(at: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]) else {
            return true
        }
        return matchesNodeSelectorTerms(required["nodeSelectorTerms"]?.arrayValue ?? [], node: node)
    }

    /// A `NodeSelector`'s terms (pod node affinity, a PersistentVolume's `nodeAffinity.required`):
    /// the node matches one of them.
    package static func matchesNodeSelectorTerms(_ terms: [JSONValue], node: KubeObject) -> Bool {
        let labels = node.labels
        let fields = ["metadata.name": node.name ?? ""]
        return terms.contains { term in
            let expressions = term["matchExpressions"]?.arrayValue ?? []
            let fieldExpressions = term["matchFields"]?.arrayValue ?? []
            // A term without requirements selects nothing.
            guard !expressions.isEmpty || !fieldExpressions.isEmpty else { return false }
            return expressions.allSatisfy { matches($0, labels) } && fieldExpressions.allSatisfy { matches($0, fields) }
        }
    }

    private static func matches(_ requirement: JSONValue, _ labels: [String: String]) -> Bool {
        guard let key = requirement["key"]?.stringValue else { return false }
        let values = requirement["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let value = labels[key]
        switch requirement["operator"]?.stringValue ?? "" {
        case "In": return value.map { values.contains($0) } ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let text = value, let number = Int64(text), values.count == 1, let bound = Int64(values[0]) else { return false }
            return requirement["operator"]?.stringValue == "Gt" ? number > bound : number < bound
        default: return false
        }
    }

    // MARK: - Pods

    /// A pod's requests (`resourcehelper.PodRequests`, the sum the quota admission charges too:
    /// containers and sidecars, at least what each init container needs, plus overhead); a
    /// limit stands for a missing request. `nonZero` counts a container without cpu or memory
    /// requests as 100m and 200Mi, the way the scheduler's scoring does so that many
    /// best-effort pods do not pile onto one node.
    package static func requests(of pod: KubeObject, nonZero: Bool = false) -> SchedulingResources {
        let total = QuotaEvaluator.podTotal(pod.value(at: ["spec"]) ?? .object([:]), "requests") { container in
            var list = QuotaEvaluator.containerList(container, "limits")
            list.merge(QuotaEvaluator.containerList(container, "requests")) { $1 }
            if nonZero {
                if list["cpu"] == nil { list["cpu"] = Quantity(milliValue: 100) }
                if list["memory"] == nil { list["memory"] = Quantity(value: 200 * 1024 * 1024, format: .binarySI) }
            }
            return list
        }
        var amounts = SchedulingResources(quantities: total)
        amounts.pods = 1
        return amounts
    }

    /// Succeeded or Failed: the pod holds no resources any more.
    package static func isTerminal(_ pod: KubeObject) -> Bool {
        let phase = pod.string(at: ["status", "phase"])
        return phase == "Succeeded" || phase == "Failed"
    }

    /// The uid of the pod's controller (`ownerReferences[controller=true]`).
    package static func controllerUID(of object: KubeObject) -> String? {
        let references = object.value(at: ["metadata", "ownerReferences"])?.arrayValue ?? []
        return references.first { $0["controller"]?.boolValue == true }?["uid"]?.stringValue
    }

    // MARK: - The message

    /// What default preemption's PostFilter step said (`DefaultPreemption.PostFilter`).
    enum PostFilter: Sendable {
        /// The pod may not preempt (`PodEligibleToPreemptOthers`' message).
        case ineligible(String)
        /// No node where preemption helps: each node's reasons.
        case noCandidate([[String]])
        /// Victims preempted, the pod nominated: the step succeeded and says nothing.
        case nominated
    }

    /// kube-scheduler's `FitError.Error()` with the PostFilter message after it:
    /// "0/3 nodes are available: 1 node(s) had untolerated taint {k: }, 2 Insufficient cpu.
    /// preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling,
    /// 2 No preemption victims found for incoming pod."
    static func failureMessage(verdicts: [Verdict], postFilter: PostFilter) -> String {
        let fit = nodesAvailable(count: verdicts.count, reasons: verdicts.map(\.reasons))
        switch postFilter {
        case .ineligible(let reason): return fit + " preemption: " + reason
        case .noCandidate(let reasons): return fit + " preemption: " + nodesAvailable(count: verdicts.count, reasons: reasons)
        case .nominated: return fit
        }
    }

    /// "0/N nodes are available: <histogram>." over each node's reasons.
    static func nodesAvailable(count: Int, reasons: [[String]]) -> String {
        "0/\(count) nodes are available:" + histogram(reasons) + "."
    }

    /// " 2 Insufficient cpu, 1 node(s) were unschedulable" sorted as strings, as upstream does.
    private static func histogram(_ reasons: [[String]]) -> String {
        var counts: [String: Int] = [:]
        for list in reasons {
            for reason in list { counts[reason, default: 0] += 1 }
        }
        let parts = counts.map { "\($0.value) \($0.key)" }.sorted()
        return parts.isEmpty ? "" : " " + parts.joined(separator: ", ")
    }
}
