import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI

/// The claims of a StatefulSet's `volumeClaimTemplates` (pkg/controller/statefulset/
/// stateful_pod_control.go `createPersistentVolumeClaims`, stateful_set_utils.go): each pod
/// `<set>-<ordinal>` gets, per template, the claim `<template>-<set>-<ordinal>`, made from the
/// template when it does not exist (labels: the template's and the set's `matchLabels`) and
/// kept across the pod's restarts, rescheduling and rolling updates, so the replica finds its
/// data again. A claim being deleted stops the pod's creation until it is gone.
///
/// `persistentVolumeClaimRetentionPolicy` (StatefulSetAutoDeletePVC, beta and on in 1.32):
/// `whenDeleted: Delete` makes the set an owner of each claim it creates, so the garbage
/// collector deletes the claims with the set; `whenScaled: Delete` makes the pod an owner of
/// its claims just before a scale-down deletes it. Retain (the default) leaves them alone.
struct StatefulSetClaims {
    let client: any ResourceClient
    let component: String

    /// `getPersistentVolumeClaimName`.
    static func claimName(template: String, set: KubeObject, ordinal: Int) -> String {
        "\(template)-\(set.name ?? "")-\(ordinal)"
    }

    static func templates(of set: KubeObject) -> [JSONValue] {
        set.value(at: ["spec", "volumeClaimTemplates"])?.arrayValue ?? []
    }

    /// `updateStorage`: the pod's volume of each template names the ordinal's claim (a template
    /// volume of the same name is replaced).
    static func withClaimVolumes(_ pod: KubeObject, set: KubeObject, ordinal: Int) -> KubeObject {
        let templates = templates(of: set)
        guard !templates.isEmpty else { return pod }
        var volumes = pod.value(at: ["spec", "volumes"])?.arrayValue ?? []
        for template in templates {
            guard let name = template["metadata"]?["name"]?.stringValue else { continue }
            volumes.removeAll { $0["name"]?.stringValue == name }
            volumes.append(.object(["name": .string(name), "persistentVolumeClaim": .object([
                "claimName": .string(claimName(template: name, set: set, ordinal: ordinal)),
            ])]))
        }
        var pod = pod
        pod.set(.array(volumes), at: ["spec", "volumes"])
        return pod
    }

    /// Makes the ordinal's missing claims; throws when one is being deleted or cannot be made.
    func ensure(for set: KubeObject, ordinal: Int, podName: String) async throws(APIError) {
        let deleteWithSet = set.string(at: ["spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted"]) == "Delete"
        for template in Self.templates(of: set) {
            guard let templateName = template["metadata"]?["name"]?.stringValue else { continue }
            let name = Self.claimName(template: templateName, set: set, ordinal: ordinal)
            if let existing = try await client.get(.persistentVolumeClaims, namespace: set.namespace, name: name) {
                if existing.deletionTimestamp != nil {
                    throw APIError.conflict(GroupResource(group: "", resource: "persistentvolumeclaims"), name: name,
                                            "pvc \(name) is being deleted")
                }
                continue
            }
            var metadata = template["metadata"]?.objectValue ?? [:]
            metadata["name"] = .string(name)
            metadata["namespace"] = set.namespace.map { .string($0) }
            var labels = metadata["labels"]?.objectValue ?? [:]
            for (key, value) in set.value(at: ["spec", "selector", "matchLabels"])?.objectValue ?? [:] { labels[key] = value }
            metadata["labels"] = .object(labels)
            metadata["ownerReferences"] = deleteWithSet ? .array([Self.ownerReference(to: set)]) : nil
            var claim = KubeObject(fields: ["apiVersion": .string("v1"), "kind": .string("PersistentVolumeClaim"),
                                            "metadata": .object(metadata), "spec": template["spec"] ?? .object([:])])
            claim.fields["status"] = nil
            do {
                _ = try await client.create(.persistentVolumeClaims, namespace: set.namespace, claim)
                await client.recordEvent(about: set, type: "Normal", reason: "SuccessfulCreate",
                                         message: "create Claim \(name) Pod \(podName) in StatefulSet \(set.name ?? "") success", component: component)
            } catch where error.code == 409 {
                continue  // made meanwhile
            } catch {
                await client.recordEvent(about: set, type: "Warning", reason: "FailedCreate",
                                         message: "create Claim \(name) for Pod \(podName) in StatefulSet \(set.name ?? "") failed error: \(error.message)",
                                         component: component)
                throw error
            }
        }
    }

    /// Before a scale-down deletes `pod`: with `whenScaled: Delete`, its claims are owned by the
    /// pod alone, so they go with it (upstream's updateClaimOwnerRefForSetAndPod drops the set's
    /// reference for a scaled-down pod: with both, the garbage collector only removed the pod's
    /// reference when the pod went, and the claim stayed).
    func releaseOnScaleDown(_ pod: KubeObject, set: KubeObject, ordinal: Int) async throws(APIError) {
        guard set.string(at: ["spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"]) == "Delete" else { return }
        for template in Self.templates(of: set) {
            guard let templateName = template["metadata"]?["name"]?.stringValue,
                  var claim = try await client.get(.persistentVolumeClaims, namespace: set.namespace,
                                                   name: Self.claimName(template: templateName, set: set, ordinal: ordinal)) else { continue }
            var owners = claim.metadata["ownerReferences"]?.arrayValue ?? []
            let ownedByPod = owners.contains { $0["uid"]?.stringValue == pod.uid }
            let ownedBySet = owners.contains { $0["uid"]?.stringValue == set.uid }
            guard !ownedByPod || ownedBySet else { continue }
            owners.removeAll { $0["uid"]?.stringValue == set.uid }
            if !ownedByPod { owners.append(Self.ownerReference(to: pod, apiVersion: "v1", kind: "Pod")) }
            claim.set(.array(owners), at: ["metadata", "ownerReferences"])
            _ = try await client.update(.persistentVolumeClaims, claim)
        }
    }

    /// A non-controller reference that blocks the owner's foreground deletion (the claim is not
    /// controlled by the set or the pod, only owned for the garbage collector).
    static func ownerReference(to owner: KubeObject, apiVersion: String? = nil, kind: String? = nil) -> JSONValue {
        .object(["apiVersion": .string(apiVersion ?? owner.apiVersion ?? ""), "kind": .string(kind ?? owner.kind ?? ""), "name": .string(owner.name ?? ""),
                 "uid": .string(owner.uid ?? ""), "controller": .bool(false), "blockOwnerDeletion": .bool(true)])
    }
}
