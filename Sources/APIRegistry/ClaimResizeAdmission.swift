import APIMachinery
import KubeAPI

/// The PersistentVolumeClaimResize admission plugin
/// (plugin/pkg/admission/storage/persistentvolume/resize/admission.go): a bound claim whose
/// storage request grows must belong to a StorageClass with `allowVolumeExpansion: true`.
/// (Nothing here resizes volumes yet, so no class this server makes allows it.)
enum ClaimResizeAdmission {
    static func admit(_ claim: KubeObject, old: KubeObject, classes: ResourceStore) async throws(APIError) {
        guard old.phase == "Bound", let before = old.requestedStorage, let after = claim.requestedStorage, after > before else { return }
        let className = claim.storageClassName
        if !className.isEmpty, let storageClass = try await classes.find(namespace: nil, name: className),
           storageClass.value(at: ["allowVolumeExpansion"])?.boolValue == true {
            return
        }
        throw APIError.forbidden(GroupResource(group: "", resource: "persistentvolumeclaims"), name: claim.name ?? "",
                                 "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize")
    }
}
