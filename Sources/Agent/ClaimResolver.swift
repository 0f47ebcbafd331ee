import KubeAPI
import Runtime

/// kubelet's walk from a pod's `persistentVolumeClaim` volume to what it mounts
/// (pkg/kubelet/volumemanager/populator/desired_state_of_world_populator.go,
/// `getPVCExtractPV` and `getPVSpec`), with its messages: the claim must be bound and not being
/// deleted, and its volume's `claimRef` must point back at it. The volume must be a directory
/// of this node (`hostPath` or `local`); other sources need plugins this agent does not have.
enum ClaimResolver {
    /// Why a claim cannot be mounted yet; `description` is kubelet's text after
    /// "error processing PVC <ns>/<claim>: ".
    struct Failure: Error, CustomStringConvertible, Equatable {
        let description: String
    }

    /// The claim's name and whether the pod asked for it read-only, from its volume.
    static func resolve(claim: JSONValue, volume pv: JSONValue?, readOnly: Bool) throws(Failure) -> ClaimVolume {
        if claim["metadata"]?["deletionTimestamp"]?.stringValue != nil { throw Failure(description: "PVC is being deleted") }
        guard claim["status"]?["phase"]?.stringValue == "Bound" else { throw Failure(description: "PVC is not bound") }
        let volumeName = claim["spec"]?["volumeName"]?.stringValue ?? ""
        guard !volumeName.isEmpty else { throw Failure(description: "PVC has empty pvc.Spec.VolumeName") }
        guard let pv else { throw Failure(description: "failed to fetch PV \(volumeName) from API server: persistentvolumes \"\(volumeName)\" not found") }
        guard let ref = pv["spec"]?["claimRef"], ref != .null else {
            throw Failure(description: "found PV object \(volumeName) but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim")
        }
        let claimUID = claim["metadata"]?["uid"]?.stringValue ?? ""
        let refUID = ref["uid"]?.stringValue ?? ""
        guard refUID == claimUID else {
            throw Failure(description: "found PV object \(volumeName) but its pv.Spec.ClaimRef.UID \(refUID) does not point to claim.UID \(claimUID)")
        }
        let spec = pv["spec"]
        if let hostPath = spec?["hostPath"], hostPath != .null {
            return ClaimVolume(volumeName: volumeName, path: hostPath["path"]?.stringValue ?? "",
                               hostPathType: hostPath["type"]?.stringValue ?? "", readOnly: readOnly)
        }
        if let local = spec?["local"], local != .null {
            let provisioner = pv["metadata"]?["annotations"]?["pv.kubernetes.io/provisioned-by"]?.stringValue
            return ClaimVolume(volumeName: volumeName, path: local["path"]?.stringValue ?? "", hostPathType: nil,
                               createDirectory: provisioner == "rancher.io/local-path", readOnly: readOnly)
        }
        var source = "unknown"
        if case .object(let members)? = spec, let key = members.keys.sorted().first(where: { !nonSourceFields.contains($0) }) { source = key }
        throw Failure(description: "volume \(volumeName): the \(source) volume source is not supported by this node (only hostPath and local)")
    }

    /// PersistentVolumeSpec members that are not a volume source.
    static let nonSourceFields: Set<String> = ["capacity", "accessModes", "claimRef", "persistentVolumeReclaimPolicy", "storageClassName",
                                               "mountOptions", "volumeMode", "nodeAffinity", "volumeAttributesClassName"]
}
