import ControllerRuntime
import APIMachinery
import KubeAPI

/// kube-scheduler's VolumeBinding plugin (pkg/scheduler/framework/plugins/volumebinding), for
/// pods with persistentVolumeClaim volumes:
/// - PreFilter: every claim exists, is not being deleted or Lost, and is bound unless its class
///   binds WaitForFirstConsumer ("pod has unbound immediate PersistentVolumeClaims"); else the
///   pod fits no node, with that message.
/// - Filter: a bound claim's volume must admit the node by its node affinity ("node(s) had
///   volume node affinity conflict"); an unbound WaitForFirstConsumer claim needs an Available
///   volume that matches it and admits the node, or a class that can provision (any provisioner
///   but `kubernetes.io/no-provisioner`), and no other node chosen for it already ("node(s)
///   didn't find available persistent volumes to bind").
/// - Bind: for the chosen node, each such claim gets the matching volume (its `claimRef`, as
///   `AssumePodVolumes`/`BindPodVolumes` write it, completed by the persistentvolume-binder) or
///   the annotation `volume.kubernetes.io/selected-node` for the provisioner.
/// Unlike upstream, the pod is bound without waiting for the claims to finish binding: the
/// agent waits for them (kubelet's volume manager would too), so a provisioner that fails
/// leaves the pod ContainerCreating with FailedMount rather than rescheduled.
package struct SchedulerVolumeBinding: Sendable {
    static let unboundImmediate = "pod has unbound immediate PersistentVolumeClaims"
    static let nodeAffinityConflict = "node(s) had volume node affinity conflict"
    static let bindConflict = "node(s) didn't find available persistent volumes to bind"
    static let noProvisioner = "kubernetes.io/no-provisioner"

    let claims: Informer
    let volumes: Informer
    let classes: Informer

    init(informers: Informers) {
        claims = informers.informer(.persistentVolumeClaims)
        volumes = informers.informer(.persistentVolumes)
        classes = informers.informer(.storageClasses)
    }

    /// The pod's claims, or the PreFilter message that makes it unschedulable everywhere.
    func preFilter(_ pod: KubeObject) -> Result<[KubeObject], PreFilterFailure> {
        var found: [KubeObject] = []
        let ephemeral = Set((pod.value(at: ["spec", "volumes"])?.arrayValue ?? []).filter { $0["ephemeral"] != nil }
            .compactMap { $0["name"]?.stringValue }.map { (pod.name ?? "") + "-" + $0 })
        for name in Self.claimNames(of: pod) {
            guard let claim = claims.get(namespace: pod.namespace, name: name) else {
                // No ephemeral volume controller runs here, so such a claim only exists if made by hand.
                let message = ephemeral.contains(name) ? "waiting for ephemeral volume controller to create the persistentvolumeclaim \"\(name)\""
                    : "persistentvolumeclaim \"\(name)\" not found"
                return .failure(PreFilterFailure(message: message))
            }
            if claim.deletionTimestamp != nil {
                return .failure(PreFilterFailure(message: "persistentvolumeclaim \"\(name)\" is being deleted"))
            }
            let volumeName = claim.string(at: ["spec", "volumeName"]) ?? ""
            if claim.phase == "Lost" || (!volumeName.isEmpty && volumes.get(namespace: nil, name: volumeName) == nil) {
                return .failure(PreFilterFailure(message: "persistentvolumeclaim \"\(name)\" bound to non-existent persistentvolume \"\(volumeName)\""))
            }
            if volumeName.isEmpty, !delaysBinding(claim) {
                return .failure(PreFilterFailure(message: Self.unboundImmediate))
            }
            found.append(claim)
        }
        return .success(found)
    }

    struct PreFilterFailure: Error {
        let message: String
    }

    /// The Filter's reason against `node`, nil when the pod's claims can be served there.
    func filter(_ claims: [KubeObject], node: KubeObject) -> String? {
        for claim in claims {
            let volumeName = claim.string(at: ["spec", "volumeName"]) ?? ""
            if !volumeName.isEmpty {
                guard let volume = volumes.get(namespace: nil, name: volumeName) else { return Self.bindConflict }
                if !VolumeMatcher.nodeAffinityAdmits(volume, node: node) { return Self.nodeAffinityConflict }
                continue
            }
            if plan(for: claim, on: node) == nil { return Self.bindConflict }
        }
        return nil
    }

    /// What binding an unbound claim on `node` takes: a static volume, or provisioning.
    enum ClaimPlan {
        case volume(KubeObject)
        case provision
    }

    func plan(for claim: KubeObject, on node: KubeObject) -> ClaimPlan? {
        if let volume = VolumeMatcher.bestMatch(for: claim, in: volumes.list(), delayBinding: true, node: node) {
            return .volume(volume)
        }
        let provisioner = classes.get(namespace: nil, name: claim.storageClassName)?.string(at: ["provisioner"]) ?? ""
        guard !provisioner.isEmpty, provisioner != Self.noProvisioner else { return nil }
        if let selected = claim.annotations[KubeObject.selectedNodeAnnotation], selected != node.name { return nil }
        return .provision
    }

    /// `BindPodVolumes` for the chosen node: writes what each unbound claim needs.
    func bindClaims(_ claims: [KubeObject], to node: KubeObject, client: any ResourceClient) async throws(APIError) {
        for claim in claims where (claim.string(at: ["spec", "volumeName"]) ?? "").isEmpty {
            switch plan(for: claim, on: node) {
            case .volume(let volume):
                guard volume.claimRef == nil else { continue }  // pre-bound to it already
                var updated = volume
                updated.set(.object(["kind": .string("PersistentVolumeClaim"), "namespace": .string(claim.namespace ?? ""),
                                     "name": .string(claim.name ?? ""), "uid": .string(claim.uid ?? ""), "apiVersion": .string("v1")]),
                            at: ["spec", "claimRef"])
                updated.set(.string("yes"), at: ["metadata", "annotations", KubeObject.boundByControllerAnnotation])
                _ = try await client.update(.persistentVolumes, updated)
            case .provision:
                guard claim.annotations[KubeObject.selectedNodeAnnotation] == nil else { continue }
                var updated = claim
                updated.set(.string(node.name ?? ""), at: ["metadata", "annotations", KubeObject.selectedNodeAnnotation])
                _ = try await client.update(.persistentVolumeClaims, updated)
            case nil:
                continue
            }
        }
    }

    /// Whether the claim's class binds WaitForFirstConsumer (a missing class does not).
    private func delaysBinding(_ claim: KubeObject) -> Bool {
        let name = claim.storageClassName
        guard !name.isEmpty, let storageClass = classes.get(namespace: nil, name: name) else { return false }
        return storageClass.string(at: ["volumeBindingMode"]) == "WaitForFirstConsumer"
    }

    /// The claims a pod's volumes name: `persistentVolumeClaim.claimName`, and `<pod>-<volume>`
    /// for generic ephemeral volumes (shared with the pvc-protection controller).
    package static func claimNames(of pod: KubeObject) -> [String] {
        (pod.value(at: ["spec", "volumes"])?.arrayValue ?? []).compactMap { volume in
            if let name = volume["persistentVolumeClaim"]?["claimName"]?.stringValue { return name }
            if volume["ephemeral"] != nil, let volumeName = volume["name"]?.stringValue { return (pod.name ?? "") + "-" + volumeName }
            return nil
        }
    }
}
