import APIMachinery
import KubeAPI

/// The columns of PersistentVolumes, PersistentVolumeClaims and StorageClasses, as Kubernetes
/// 1.32 prints them (pkg/printers/internalversion/printers.go `printPersistentVolume`,
/// `printPersistentVolumeClaim`, `printStorageClass`); descriptions are the v1 types' field docs.
enum StorageTablePrinters {
    static let persistentVolumes = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Capacity", type: "string", description: doc("PersistentVolumeSpec", "capacity")),
            TableColumn(name: "Access Modes", type: "string", description: doc("PersistentVolumeSpec", "accessModes")),
            TableColumn(name: "Reclaim Policy", type: "string", description: doc("PersistentVolumeSpec", "persistentVolumeReclaimPolicy")),
            TableColumn(name: "Status", type: "string", description: doc("PersistentVolumeStatus", "phase")),
            TableColumn(name: "Claim", type: "string", description: doc("PersistentVolumeSpec", "claimRef")),
            TableColumn(name: "StorageClass", type: "string", description: "StorageClass of the pv"),
            TableColumn(name: "VolumeAttributesClass", type: "string", description: doc("PersistentVolumeSpec", "volumeAttributesClassName")),
            TableColumn(name: "Reason", type: "string", description: doc("PersistentVolumeStatus", "reason")),
            .age,
            TableColumn(name: "VolumeMode", type: "string", description: doc("PersistentVolumeSpec", "volumeMode"), priority: 1),
        ],
        cells: { volume, context in
            var claim = ""
            if let ref = volume.claimRef { claim = ref.namespace + "/" + ref.name }
            var status = volume.phase ?? ""
            if volume.deletionTimestamp != nil { status = "Terminating" }
            return [.string(volume.name ?? ""), .string(volume.volumeCapacity?.description ?? "0"),
                    .string(accessModes(volume.value(at: ["spec", "accessModes"]))),
                    .string(volume.string(at: ["spec", "persistentVolumeReclaimPolicy"]) ?? ""), .string(status), .string(claim),
                    .string(volume.storageClassName), .string(volume.string(at: ["spec", "volumeAttributesClassName"]) ?? "<unset>"),
                    .string(volume.string(at: ["status", "reason"]) ?? ""), .string(context.age(volume.creationTimestamp)),
                    .string(volume.volumeMode)]
        }
    )

    static let persistentVolumeClaims = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Status", type: "string", description: doc("PersistentVolumeClaimStatus", "phase")),
            TableColumn(name: "Volume", type: "string", description: doc("PersistentVolumeClaimSpec", "volumeName")),
            TableColumn(name: "Capacity", type: "string", description: doc("PersistentVolumeClaimStatus", "capacity")),
            TableColumn(name: "Access Modes", type: "string", description: doc("PersistentVolumeClaimStatus", "accessModes")),
            TableColumn(name: "StorageClass", type: "string", description: "StorageClass of the pvc"),
            TableColumn(name: "VolumeAttributesClass", type: "string", description: doc("PersistentVolumeClaimSpec", "volumeAttributesClassName")),
            .age,
            TableColumn(name: "VolumeMode", type: "string", description: doc("PersistentVolumeClaimSpec", "volumeMode"), priority: 1),
        ],
        cells: { claim, context in
            var phase = claim.phase ?? ""
            if claim.deletionTimestamp != nil { phase = "Terminating" }
            // Capacity and access modes are shown once the claim is bound (its status has them).
            var capacity = "", modes = ""
            if !(claim.string(at: ["spec", "volumeName"]) ?? "").isEmpty {
                modes = accessModes(claim.value(at: ["status", "accessModes"]))
                if let storage = claim.value(at: ["status", "capacity", "storage"]) {
                    capacity = storage.stringValue ?? storage.intValue.map(String.init) ?? ""
                }
            }
            return [.string(claim.name ?? ""), .string(phase), .string(claim.string(at: ["spec", "volumeName"]) ?? ""),
                    .string(capacity), .string(modes), .string(claim.storageClassName),
                    .string(claim.string(at: ["spec", "volumeAttributesClassName"]) ?? "<unset>"),
                    .string(context.age(claim.creationTimestamp)), .string(claim.volumeMode)]
        }
    )

    static let storageClasses = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Provisioner", type: "string", description: doc("storage.v1.StorageClass", "provisioner")),
            TableColumn(name: "ReclaimPolicy", type: "string", description: doc("storage.v1.StorageClass", "reclaimPolicy")),
            TableColumn(name: "VolumeBindingMode", type: "string", description: doc("storage.v1.StorageClass", "volumeBindingMode")),
            TableColumn(name: "AllowVolumeExpansion", type: "string", description: doc("storage.v1.StorageClass", "allowVolumeExpansion")),
            .age,
        ],
        cells: { storageClass, context in
            var name = storageClass.name ?? ""
            if storageClass.isDefaultStorageClass { name += " (default)" }
            return [.string(name), .string(storageClass.string(at: ["provisioner"]) ?? ""),
                    .string(storageClass.string(at: ["reclaimPolicy"]) ?? "Delete"),
                    .string(storageClass.string(at: ["volumeBindingMode"]) ?? "Immediate"),
                    .bool(storageClass.value(at: ["allowVolumeExpansion"])?.boolValue == true),
                    .string(context.age(storageClass.creationTimestamp))]
        }
    )

    /// `helper.GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order, comma-separated.
    static func accessModes(_ value: JSONValue?) -> String {
        let modes = Set((value?.arrayValue ?? []).compactMap(\.stringValue))
        return [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
            .filter { modes.contains($0.0) }.map(\.1).joined(separator: ",")
    }

    /// The description of `field` in the v1 type `message` (generated.proto's doc comment).
    private static func doc(_ message: String, _ field: String) -> String {
        TypeSchema.definition(of: message)?.property(field)?.description ?? ""
    }
}
