import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// Where a DaemonSet's pods belong and what they look like: `NodeShouldRunDaemonPod`
/// (nodeSelector, required node affinity, taints against the pod's tolerations plus the
/// ones the DaemonSet controller adds) and the pod made for one node.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/daemon/daemon_controller.go
/// and pkg/controller/daemon/util/daemonset_util.go
enum DaemonSetNodes {
    /// `controller-revision-hash`: the template's hash, which tells updated pods from old ones.
    static let revisionHashLabel = "controller-revision-hash"
    static let templateGenerationLabel = "pod-template-generation"

    /// `AddOrUpdateDaemonPodTolerations`: a daemon keeps running on a node that is not ready,
    /// unreachable, under pressure or cordoned; a host-network daemon also where the network
    /// is not up yet (it may be what sets it up).
    static func defaultTolerations(hostNetwork: Bool) -> [JSONValue] {
        var tolerations: [(String, String)] = [
            ("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"), ("node.kubernetes.io/unschedulable", "NoSchedule"),
        ]
        if hostNetwork { tolerations.append(("node.kubernetes.io/network-unavailable", "NoSchedule")) }
        return tolerations.map { key, effect in
            .object(["key": .string(key), "operator": .string("Exists"), "effect": .string(effect)])
        }
    }

    /// The pod template's tolerations with the defaults added (those already there kept).
    static func tolerations(of template: JSONValue?) -> [JSONValue] {
        var list = template?["spec"]?["tolerations"]?.arrayValue ?? []
        let hostNetwork = template?["spec"]?["hostNetwork"]?.boolValue == true
        for toleration in defaultTolerations(hostNetwork: hostNetwork) {
            let same = list.contains {
                $0["key"] == toleration["key"] && $0["effect"] == toleration["effect"] && $0["operator"] == toleration["operator"]
            }
            if !same { list.append(toleration) }
        }
        return list
    }

    /// Whether a daemon pod should be created on `node` (`shouldRun`) and whether one there
    /// may stay (`shouldContinueRunning`): a NoSchedule taint keeps new pods off but leaves
    /// running ones, a NoExecute taint evicts.
    static func placement(of daemonSet: KubeObject, on node: KubeObject) -> (shouldRun: Bool, shouldContinueRunning: Bool) {
        let template = daemonSet.value(at: ["spec", "template"])
        let probe = KubeObject(fields: ["spec": template?["spec"] ?? .object([:])])
        guard SchedulerPredicates.matchesNodeSelector(pod: probe, node: node),
              SchedulerPredicates.matchesRequiredAffinity(pod: probe, node: node) else { return (false, false) }
        let tolerations = self.tolerations(of: template)
        let untolerated = NodeTaint.taints(of: node).filter { !$0.isTolerated(byAnyOf: tolerations) }
        if untolerated.contains(where: { $0.effect == "NoExecute" }) { return (false, false) }
        if untolerated.contains(where: { $0.effect == "NoSchedule" }) { return (false, true) }
        return (true, true)
    }

    /// The node a daemon pod is for: its `nodeName`, or before binding the node its required
    /// affinity names (`util.GetTargetNodeName`).
    static func targetNode(of pod: KubeObject) -> String? {
        if let name = pod.string(at: ["spec", "nodeName"]), !name.isEmpty { return name }
        let terms = pod.value(at: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"])?.arrayValue ?? []
        for term in terms {
            for field in term["matchFields"]?.arrayValue ?? [] where field["key"]?.stringValue == "metadata.name" {
                if let value = field["values"]?.arrayValue?.first?.stringValue { return value }
            }
        }
        return nil
    }

    /// The pod for `node`: the template with the revision labels, the default tolerations and
    /// a required node affinity naming the node (`ReplaceDaemonSetPodNodeNameNodeAffinity`),
    /// so the scheduler binds it there.
    static func pod(of daemonSet: KubeObject, node: String, hash: String) -> KubeObject {
        var pod = ReplicaSetPods.fromTemplate(of: daemonSet)
        var labels = pod.metadata["labels"]?.objectValue ?? [:]
        labels[revisionHashLabel] = .string(hash)
        labels[templateGenerationLabel] = .string(String(daemonSet.int(at: ["metadata", "generation"], default: 1)))
        pod.set(.object(labels), at: ["metadata", "labels"])
        pod.set(.array(tolerations(of: daemonSet.value(at: ["spec", "template"]))), at: ["spec", "tolerations"])
        let term: JSONValue = .object(["matchFields": .array([.object([
            "key": .string("metadata.name"), "operator": .string("In"), "values": .array([.string(node)]),
        ])])])
        pod.set(.object(["nodeSelectorTerms": .array([term])]),
                at: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"])
        return pod
    }

    /// The template's hash (the ControllerRevision name suffix upstream).
    static func hash(of daemonSet: KubeObject) -> String {
        PodTemplateHash.compute(template: daemonSet.value(at: ["spec", "template"]) ?? .object([:]),
                                collisionCount: daemonSet.value(at: ["status", "collisionCount"])?.intValue)
    }
}
