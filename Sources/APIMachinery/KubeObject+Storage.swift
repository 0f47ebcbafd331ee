import KubeAPI

/// What the storage controllers, the scheduler and the agent read of PersistentVolumes,
/// PersistentVolumeClaims and StorageClasses, with Kubernetes' defaults for missing fields
/// (pkg/apis/core/v1/helper, pkg/volume/util).
extension KubeObject {
    /// The annotation that named a claim's or volume's class before `storageClassName`
    /// existed; it still wins over the field (`GetPersistentVolumeClaimClass`).
    package static let betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"
    /// Set by the PV controller on what it bound (`pv.kubernetes.io/bound-by-controller`).
    package static let boundByControllerAnnotation = "pv.kubernetes.io/bound-by-controller"
    /// Set on a claim once its binding is complete (`pv.kubernetes.io/bind-completed`).
    package static let bindCompletedAnnotation = "pv.kubernetes.io/bind-completed"
    /// The provisioner expected to make a claim's volume (and the beta name, still written).
    package static let storageProvisionerAnnotation = "volume.kubernetes.io/storage-provisioner"
    package static let betaStorageProvisionerAnnotation = "volume.beta.kubernetes.io/storage-provisioner"
    /// The node the scheduler chose for a WaitForFirstConsumer claim's first pod.
    package static let selectedNodeAnnotation = "volume.kubernetes.io/selected-node"
    /// Who made a volume (`pv.kubernetes.io/provisioned-by`).
    package static let provisionedByAnnotation = "pv.kubernetes.io/provisioned-by"
    /// Marks the default StorageClass (and its beta name).
    package static let defaultStorageClassAnnotation = "storageclass.kubernetes.io/is-default-class"
    package static let betaDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"

    /// The class of a claim or volume: the beta annotation if present, else
    /// `spec.storageClassName`, else "" (no class).
    package var storageClassName: String {
        if let annotated = annotations[Self.betaStorageClassAnnotation] { return annotated }
        return string(at: ["spec", "storageClassName"]) ?? ""
    }

    /// Whether a claim names a class at all (an empty name is "no class", a missing one lets
    /// the DefaultStorageClass admission plugin choose).
    package var hasStorageClassName: Bool {
        annotations[Self.betaStorageClassAnnotation] != nil || value(at: ["spec", "storageClassName"])?.stringValue != nil
    }

    /// `spec.accessModes` of a claim or volume.
    package var accessModes: [String] {
        (value(at: ["spec", "accessModes"])?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// `spec.volumeMode`, Filesystem when unset.
    package var volumeMode: String {
        string(at: ["spec", "volumeMode"]) ?? "Filesystem"
    }

    /// A volume's `spec.capacity.storage`.
    package var volumeCapacity: Quantity? {
        value(at: ["spec", "capacity", "storage"]).flatMap(Self.quantity)
    }

    /// A claim's `spec.resources.requests.storage`.
    package var requestedStorage: Quantity? {
        value(at: ["spec", "resources", "requests", "storage"]).flatMap(Self.quantity)
    }

    /// `status.phase`.
    package var phase: String? {
        string(at: ["status", "phase"])
    }

    /// A volume's `spec.claimRef` as (namespace, name, uid); nil when the volume is not bound.
    package var claimRef: (namespace: String, name: String, uid: String)? {
        guard let ref = value(at: ["spec", "claimRef"]), ref.objectValue != nil else { return nil }
        return (ref["namespace"]?.stringValue ?? "", ref["name"]?.stringValue ?? "", ref["uid"]?.stringValue ?? "")
    }

    /// `IsVolumeBoundToClaim`: the volume's claimRef names `claim` (and its uid, when the
    /// reference has one).
    package func isVolumeBound(to claim: KubeObject) -> Bool {
        guard let ref = claimRef, ref.namespace == (claim.namespace ?? ""), ref.name == (claim.name ?? "") else { return false }
        return ref.uid.isEmpty || ref.uid == (claim.uid ?? "")
    }

    /// Whether `annotation` is "true" (Kubernetes' default-class annotations).
    package func annotationIsTrue(_ annotation: String) -> Bool {
        annotations[annotation] == "true"
    }

    /// `IsDefaultAnnotation`: the StorageClass is marked default (the GA or the beta annotation).
    package var isDefaultStorageClass: Bool {
        annotationIsTrue(Self.defaultStorageClassAnnotation) || annotationIsTrue(Self.betaDefaultStorageClassAnnotation)
    }

    /// A quantity as JSON holds it (a string, or a bare number); nil when it is not one.
    package static func quantity(_ value: JSONValue) -> Quantity? {
        switch value {
        case .string(let text): return try? Quantity(text)
        case .int(let number): return Quantity(value: number)
        case .double(let number) where number.isFinite: return try? Quantity(String(number))
        default: return nil
        }
    }
}
