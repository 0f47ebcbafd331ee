import APIMachinery
import KubeAPI

/// The DefaultStorageClass admission plugin for new PersistentVolumeClaims
/// (plugin/pkg/admission/storage/storageclass/setdefault/admission.go): a claim created without
/// `spec.storageClassName` and without the beta class annotation gets the default StorageClass
/// (annotated `storageclass.kubernetes.io/is-default-class: "true"`, or the beta annotation),
/// the newest when several are. An empty `storageClassName` is a choice of "no class" and is
/// left alone; with no default class the claim stays without one.
enum DefaultStorageClassAdmission {
    static func admit(_ claim: inout KubeObject, classes: ResourceStore) async throws(APIError) {
        // A spec that is not an object is the schema check's to refuse.
        guard let spec = claim.fields["spec"]?.objectValue, !claim.hasStorageClassName else { return }
        let stored = try await classes.list(namespace: nil, options: ListOptions()).items
        guard let chosen = DefaultClassSelection.newest(of: stored, where: \.isDefaultStorageClass) else { return }
        var updated = spec
        updated["storageClassName"] = .string(chosen)
        claim.fields["spec"] = .object(updated)
    }
}
