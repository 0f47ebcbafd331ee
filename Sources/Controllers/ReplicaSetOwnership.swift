import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

extension KubeObject {
    /// An integer at `path`, or `fallback`.
    func int(at path: [String], default fallback: Int64 = 0) -> Int64 {
        value(at: path)?.intValue ?? fallback
    }

    /// `spec.replicas` (defaulted to 1 by the API, so absent only in a hand-made object).
    var specReplicas: Int64 { int(at: ["spec", "replicas"], default: 1) }

    /// The creation time, for "oldest first" orderings; objects without one sort first.
    var createdAt: Date { creationTimestamp.flatMap(Time.init(rfc3339:))?.date ?? .distantPast }

    /// The label selector of `spec.selector`.
    func specSelector() throws(APIError) -> LabelSelector {
        guard let value = value(at: ["spec", "selector"]) else {
            throw APIError.invalid(kind: kind ?? "", group: "apps", name: name ?? "", errors: [
                ValidationError(type: .required, field: "spec.selector"),
            ])
        }
        return try LabelSelector(object: value)
    }
}

/// What `ControllerRefManager` does for ReplicaSets (owning pods) and Deployments (owning
/// ReplicaSets): the objects a controller owns are those whose controller reference names it.
/// It adopts orphans its selector matches and releases what it owns but no longer selects,
/// with patches conditional on the object's resourceVersion so a race with another writer
/// ends in a Conflict and a retry, never a lost owner reference.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/controller_ref_manager.go
struct ReplicaSetOwnership: Sendable {
    let client: any ResourceClient
    /// The owned resource (pods, or replicasets).
    let resource: ResourceRef

    /// The candidates `owner` controls after adoption and release.
    /// `canAdopt` is asked once, before the first adoption: Kubernetes re-reads the owner
    /// from the API to make sure it still exists and is not being deleted.
    func claim(owner: KubeObject, selector: LabelSelector, candidates: [KubeObject],
               canAdopt: () async throws(APIError) -> Bool) async throws(APIError) -> [KubeObject] {
        var claimed: [KubeObject] = []
        var adoptionChecked: Bool?
        for candidate in candidates {
            let matches = selector.matches(candidate.labels)
            if let ref = candidate.controllerRef {
                guard ref.uid == owner.uid else { continue } // someone else's
                if matches {
                    claimed.append(candidate)
                } else if owner.deletionTimestamp == nil {
                    try await release(candidate, from: owner)
                }
                continue
            }
            guard matches, owner.deletionTimestamp == nil, candidate.deletionTimestamp == nil else { continue }
            if adoptionChecked == nil { adoptionChecked = try await canAdopt() }
            guard adoptionChecked == true else { continue }
            if let adopted = try await adopt(candidate, by: owner) { claimed.append(adopted) }
        }
        return claimed
    }

    private func adopt(_ object: KubeObject, by owner: KubeObject) async throws(APIError) -> KubeObject? {
        var references = object.metadata["ownerReferences"]?.arrayValue ?? []
        references.append(OwnerRef.controllerRef(to: owner))
        return try await patchReferences(object, references)
    }

    private func release(_ object: KubeObject, from owner: KubeObject) async throws(APIError) {
        let references = (object.metadata["ownerReferences"]?.arrayValue ?? []).filter { $0["uid"]?.stringValue != owner.uid }
        _ = try await patchReferences(object, references)
    }

    /// A merge patch of the owner references, conditional on the resourceVersion and uid read;
    /// nil when the object is gone.
    private func patchReferences(_ object: KubeObject, _ references: [JSONValue]) async throws(APIError) -> KubeObject? {
        let patch: JSONValue = .object(["metadata": .object([
            "ownerReferences": references.isEmpty ? .null : .array(references),
            "resourceVersion": .string(object.resourceVersion ?? ""),
            "uid": .string(object.uid ?? ""),
        ])])
        do {
            return try await client.patch(resource, namespace: object.namespace, name: object.name ?? "", patch)
        } catch where error.code == 404 {
            return nil
        }
    }
}
