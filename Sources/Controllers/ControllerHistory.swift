import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// The template history of StatefulSets and DaemonSets, kept as ControllerRevisions as
/// kube-controller-manager's `history` package does (pkg/controller/history/controller_history.go):
/// each revision holds the patch `{"spec":{"template":{...,"$patch":"replace"}}}` that
/// `kubectl rollout undo` applies to restore it, a `revision` number that grows with every
/// template the owner takes (an old template taken again gets the next number), the
/// template's labels plus `controller.kubernetes.io/hash`, and a controller reference.
struct ControllerHistory: Sendable {
    /// `ControllerRevisionHashLabel`.
    static let hashLabel = "controller.kubernetes.io/hash"

    let client: any ResourceClient
    let revisions: Informer

    /// `getPatch` / `getStatefulSetPatch`: the owner's template, marked to replace the whole
    /// template when applied as a strategic merge patch.
    static func patch(of owner: KubeObject) -> JSONValue {
        var template = PodTemplateHash.normalized(owner.value(at: ["spec", "template"]) ?? .object([:])).objectValue ?? [:]
        template["$patch"] = .string("replace")
        return .object(["spec": .object(["template": .object(template)])])
    }

    /// The template a revision restores (its patch without the directive).
    static func template(of revision: KubeObject) -> JSONValue {
        var template = revision.value(at: ["data", "spec", "template"])?.objectValue ?? [:]
        template["$patch"] = nil
        return .object(template)
    }

    /// The revisions `owner` controls, oldest revision number first.
    func owned(by owner: KubeObject) -> [KubeObject] {
        revisions.list(namespace: owner.namespace)
            .filter { $0.controllerRef?.uid == owner.uid && $0.deletionTimestamp == nil }
            .sorted { ($0.int(at: ["revision"]), $0.name ?? "") < ($1.int(at: ["revision"]), $1.name ?? "") }
    }

    /// What `revision(for:)` found out: the revision of the owner's template, or a name taken
    /// by a different template (a hash collision: the caller raises `status.collisionCount`,
    /// which changes the hash, and tries again).
    enum Outcome {
        case revision(KubeObject)
        case collision
    }

    /// The revision of the owner's current template named `<owner>-<hash>`: the existing one
    /// (renumbered to come last when it is an older one taken again, as `UpdateControllerRevision`
    /// does), or a new one numbered after the newest.
    /// `hashLabel` is the label naming the hash (`controller.kubernetes.io/hash` for
    /// StatefulSets, `controller-revision-hash` for DaemonSets); DaemonSets also copy their
    /// annotations (`kubernetes.io/change-cause` shows in `kubectl rollout history`).
    func revision(for owner: KubeObject, hash: String, existing: [KubeObject], hashLabel: String = ControllerHistory.hashLabel,
                  copyAnnotations: Bool = false) async throws(APIError) -> Outcome {
        let name = "\(owner.name ?? "")-\(hash)"
        let data = Self.patch(of: owner)
        let next = (existing.map { $0.int(at: ["revision"]) }.max() ?? 0) + 1
        var found = existing.first { $0.name == name }
        if found == nil {
            // Not in the cache (yet): the API may have it from an earlier sync.
            found = try await client.get(.controllerRevisions, namespace: owner.namespace, name: name)
        }
        if var found {
            guard found.controllerRef?.uid == owner.uid, Self.sameTemplate(found, data) else { return .collision }
            // An older template taken again (a rollback) becomes the newest revision; one
            // fetched past the cache was just made and is the newest already.
            if existing.contains(where: { $0.name == name }), existing.last?.name != name {
                found.fields["revision"] = .int(next)
                found = try await client.update(.controllerRevisions, found)
            }
            return .revision(found)
        }
        var labels = (owner.value(at: ["spec", "template", "metadata", "labels"])?.objectValue ?? [:])
        labels[hashLabel] = .string(hash)
        var metadata: [String: JSONValue] = [
            "name": .string(name), "namespace": owner.namespace.map { .string($0) } ?? .null,
            "labels": .object(labels), "ownerReferences": .array([OwnerRef.controllerRef(to: owner)]),
        ]
        if copyAnnotations, let annotations = owner.metadata["annotations"], annotations != .null { metadata["annotations"] = annotations }
        let revision = KubeObject(fields: [
            "apiVersion": .string("apps/v1"), "kind": .string("ControllerRevision"),
            "metadata": .object(metadata),
            "data": data, "revision": .int(next),
        ])
        do {
            return .revision(try await client.create(.controllerRevisions, namespace: owner.namespace, revision))
        } catch where error.code == 409 {
            guard let stored = try await client.get(.controllerRevisions, namespace: owner.namespace, name: name),
                  stored.controllerRef?.uid == owner.uid, Self.sameTemplate(stored, data) else { return .collision }
            return .revision(stored)
        }
    }

    /// `EqualRevision`: the same template once client round-trips are ignored.
    static func sameTemplate(_ revision: KubeObject, _ data: JSONValue) -> Bool {
        var template = data["spec"]?["template"]?.objectValue ?? [:]
        template["$patch"] = nil
        return PodTemplateHash.equalIgnoringHash(Self.template(of: revision), .object(template))
    }

    /// `truncateHistory`: the oldest revisions no pod uses and that are neither current nor
    /// the update go, leaving at most `limit` of them.
    func truncate(_ existing: [KubeObject], live: Set<String>, limit: Int64) async throws(APIError) {
        let historic = existing.filter { !live.contains($0.name ?? "") }
        let excess = historic.count - Int(max(limit, 0))
        guard excess > 0 else { return }
        for revision in historic.prefix(excess) {
            do {
                try await client.delete(.controllerRevisions, namespace: revision.namespace, name: revision.name ?? "", preconditionUID: revision.uid)
            } catch where error.code == 404 || error.code == 409 {
                continue
            }
        }
    }
}
