import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// The stable identity of a StatefulSet's pods (pkg/controller/statefulset/stateful_set_utils.go):
/// the pod of ordinal N is `<set>-N`, carries the labels `statefulset.kubernetes.io/pod-name`,
/// `apps.kubernetes.io/pod-index` and `controller-revision-hash` (the name of the
/// ControllerRevision it was made from), and has `hostname` = its name and `subdomain` =
/// `serviceName`, so the headless Service gives it the DNS name
/// `<set>-N.<service>.<namespace>.svc.<zone>`.
enum StatefulSetPods {
    static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    static let podIndexLabel = "apps.kubernetes.io/pod-index"
    static let revisionLabel = "controller-revision-hash"

    /// `getParentNameAndOrdinal`: `web-12` is ordinal 12 of `web`; nil when the name does not
    /// end in `-<digits>`.
    static func parentAndOrdinal(of pod: KubeObject) -> (parent: String, ordinal: Int)? {
        guard let name = pod.name, let dash = name.lastIndex(of: "-") else { return nil }
        let digits = name[name.index(after: dash)...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let ordinal = Int(digits) else { return nil }
        return (String(name[..<dash]), ordinal)
    }

    /// `isMemberOf`: named after the set.
    static func ordinal(of pod: KubeObject, in set: KubeObject) -> Int? {
        guard let (parent, ordinal) = parentAndOrdinal(of: pod), parent == set.name else { return nil }
        return ordinal
    }

    /// `getStartOrdinal`: `spec.ordinals.start`, 0 by default.
    static func startOrdinal(of set: KubeObject) -> Int {
        Int(set.int(at: ["spec", "ordinals", "start"]))
    }

    static func revision(of pod: KubeObject) -> String {
        pod.labels[revisionLabel] ?? ""
    }

    /// `isRunningAndReady`.
    static func isRunningAndReady(_ pod: KubeObject) -> Bool {
        pod.string(at: ["status", "phase"]) == "Running" && ReplicaSetPods.isReady(pod)
    }

    /// `isRunningAndAvailable`: Ready for minReadySeconds.
    static func isRunningAndAvailable(_ pod: KubeObject, minReadySeconds: Int64, now: Date) -> Bool {
        pod.string(at: ["status", "phase"]) == "Running" && ReplicaSetPods.isAvailable(pod, minReadySeconds: minReadySeconds, now: now)
    }

    /// `isFailed` or `isSucceeded`: a pod of a StatefulSet that ended is replaced.
    static func hasEnded(_ pod: KubeObject) -> Bool {
        let phase = pod.string(at: ["status", "phase"])
        return phase == "Failed" || phase == "Succeeded"
    }

    /// `identityMatches`: the labels that name the pod are there and right.
    static func identityMatches(_ pod: KubeObject, ordinal: Int) -> Bool {
        pod.labels[podNameLabel] == pod.name && pod.labels[podIndexLabel] == String(ordinal)
    }

    /// `updateIdentity` on an existing pod's labels (hostname and subdomain are immutable
    /// and set at creation).
    static func withIdentity(_ pod: KubeObject, ordinal: Int) -> KubeObject {
        var pod = pod
        var labels = pod.metadata["labels"]?.objectValue ?? [:]
        labels[podNameLabel] = pod.name.map { .string($0) }
        labels[podIndexLabel] = .string(String(ordinal))
        pod.set(.object(labels), at: ["metadata", "labels"])
        return pod
    }

    /// `newVersionedStatefulSetPod`: the pod of `ordinal` made from `template` (the template
    /// of ControllerRevision `revision`), owned by the set.
    static func pod(of set: KubeObject, ordinal: Int, template: JSONValue, revision: String) -> KubeObject {
        let name = "\(set.name ?? "")-\(ordinal)"
        var metadata: [String: JSONValue] = ["name": .string(name)]
        for key in ["labels", "annotations", "finalizers"] {
            if let value = template["metadata"]?[key], value != .null { metadata[key] = value }
        }
        var labels = metadata["labels"]?.objectValue ?? [:]
        labels[podNameLabel] = .string(name)
        labels[podIndexLabel] = .string(String(ordinal))
        labels[revisionLabel] = .string(revision)
        metadata["labels"] = .object(labels)
        metadata["namespace"] = set.namespace.map { .string($0) }
        metadata["ownerReferences"] = .array([OwnerRef.controllerRef(to: set)])
        var pod = KubeObject(fields: [
            "apiVersion": .string("v1"), "kind": .string("Pod"),
            "metadata": .object(metadata),
            "spec": template["spec"] ?? .object([:]),
        ])
        pod.set(.string(name), at: ["spec", "hostname"])
        if let service = set.string(at: ["spec", "serviceName"]), !service.isEmpty {
            pod.set(.string(service), at: ["spec", "subdomain"])
        }
        return StatefulSetClaims.withClaimVolumes(pod, set: set, ordinal: ordinal)
    }
}
