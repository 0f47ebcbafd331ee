import APIMachinery
import KubeAPI

/// PersistentVolumes (core/v1): pkg/registry/core/persistentvolume/strategy.go with
/// `SetDefaults_PersistentVolume` and `ValidatePersistentVolume[Update]`
/// (pkg/apis/core/validation/validation.go) and their messages.
///
/// A new volume's status is reset to Pending with `lastPhaseTransitionTime` now (the
/// persistentvolume-binder makes it Available); updates keep the stored status; a status write
/// that changes the phase moves `lastPhaseTransitionTime`. The volume source and volumeMode never
/// change; node affinity may be set once. New volumes get the `kubernetes.io/pv-protection`
/// finalizer (the StorageObjectInUseProtection admission plugin), which the pv-protection
/// controller removes once the volume is not Bound.
struct PersistentVolumeStrategy: ResourceStrategy {
    static let kind = "PersistentVolume"
    static let protectionFinalizer = "kubernetes.io/pv-protection"
    /// `PersistentVolumeSource`'s members in upstream's validation order: exactly one is set.
    static let sources = ["hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd", "quobyte",
                          "cinder", "cephfs", "iscsi", "fc", "azureFile", "vsphereVolume", "azureDisk", "photonPersistentDisk",
                          "portworxVolume", "scaleIO", "local", "storageos", "csi"]
    static let hostPathTypes = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"]

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        Self.setDefaults(&object)
        object.fields["status"] = .object(["phase": .string("Pending"), "lastPhaseTransitionTime": .string(context.now.description)])
        if !object.finalizers.contains(Self.protectionFinalizer) { object.finalizers.append(Self.protectionFinalizer) }
        let errors = Self.specErrors(object)
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: "", name: object.name ?? "", errors: errors) }
        return []
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        Self.setDefaults(&object)
        object.fields["status"] = old.fields["status"]
        var errors = Self.specErrors(object)
        let sourceNow = Self.sources.compactMap { name in object.value(at: ["spec", name]).map { (name, $0) } }
        let sourceBefore = Self.sources.compactMap { name in old.value(at: ["spec", name]).map { (name, $0) } }
        if !sourceNow.elementsEqual(sourceBefore, by: { $0.0 == $1.0 && $0.1 == $1.1 }) {
            errors.append(ValidationError(type: .forbidden, field: "spec.persistentvolumesource",
                                          detail: "spec.persistentvolumesource is immutable after creation"))
        }
        if object.volumeMode != old.volumeMode {
            errors.append(ValidationError(type: .invalid, field: "volumeMode", badValue: .string(object.volumeMode), detail: "field is immutable"))
        }
        // `validatePvNodeAffinity`: may be set when it was not, never changed after.
        if let before = old.value(at: ["spec", "nodeAffinity"]), before != .null, object.value(at: ["spec", "nodeAffinity"]) != before {
            errors.append(ValidationError(type: .invalid, field: "nodeAffinity", badValue: .json(String(decoding: JSONSerializer.serialize(object.value(at: ["spec", "nodeAffinity"]) ?? .null), as: UTF8.self)),
                                          detail: "field is immutable"))
        }
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: "", name: object.name ?? "", errors: errors) }
        return []
    }

    func prepareForStatusUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        if object.phase != old.phase {
            object.set(.string(context.now.description), at: ["status", "lastPhaseTransitionTime"])
        }
        if let phase = object.phase, !["Pending", "Available", "Bound", "Released", "Failed"].contains(phase) {
            throw APIError.invalid(kind: Self.kind, group: "", name: object.name ?? "", errors: [
                StorageValidation.notSupported("status.phase", phase, ["Available", "Bound", "Failed", "Pending", "Released"]),
            ])
        }
        return []
    }

    /// `SetDefaults_PersistentVolume`: reclaim policy Retain, volumeMode Filesystem; a hostPath's
    /// type "" (`SetDefaults_HostPathVolumeSource`).
    static func setDefaults(_ object: inout KubeObject) {
        guard object.fields["spec"]?.objectValue != nil else { return }
        if object.value(at: ["spec", "persistentVolumeReclaimPolicy"]) == nil {
            object.set(.string("Retain"), at: ["spec", "persistentVolumeReclaimPolicy"])
        }
        if object.value(at: ["spec", "volumeMode"]) == nil {
            object.set(.string("Filesystem"), at: ["spec", "volumeMode"])
        }
        if object.value(at: ["spec", "hostPath"])?.objectValue != nil, object.value(at: ["spec", "hostPath", "type"]) == nil {
            object.set(.string(""), at: ["spec", "hostPath", "type"])
        }
    }

    /// `ValidatePersistentVolumeSpec` for a volume object.
    static func specErrors(_ object: KubeObject) -> [ValidationError] {
        let spec = object.fields["spec"]
        var errors = StorageValidation.accessModeErrors(spec, path: "spec.accessModes", requiredDetail: "")
        let capacity = spec?["capacity"]?.objectValue ?? [:]
        if capacity.isEmpty {
            errors.append(ValidationError(type: .required, field: "spec.capacity"))
        }
        if capacity["storage"] == nil || capacity.count > 1 {
            let rendered = "map[" + capacity.keys.sorted().map { "\($0):\(capacity[$0]?.stringValue ?? "")" }.joined(separator: " ") + "]"
            errors.append(ValidationError(type: .notSupported, field: "spec.capacity", badValue: .json(rendered),
                                          detail: "supported values: \"storage\""))
        }
        for name in capacity.keys.sorted() {
            errors += StorageValidation.positiveQuantityErrors(capacity[name] ?? .null, path: "spec.capacity[\(name)]")
        }
        errors += StorageValidation.classNameErrors(spec?["storageClassName"]?.stringValue, path: "spec.storageClassName")
        errors += StorageValidation.volumeModeErrors(spec?["volumeMode"]?.stringValue, path: "spec.volumeMode")
        if let policy = spec?["persistentVolumeReclaimPolicy"]?.stringValue, !policy.isEmpty, !StorageValidation.reclaimPolicies.contains(policy) {
            errors.append(StorageValidation.notSupported("spec.persistentVolumeReclaimPolicy", policy, StorageValidation.reclaimPolicies))
        }
        let nodeAffinity = spec?["nodeAffinity"]
        let terms = nodeAffinity?["required"]?["nodeSelectorTerms"]?.arrayValue ?? []
        if let nodeAffinity, nodeAffinity != .null {
            // `validateVolumeNodeAffinity`.
            if nodeAffinity["required"] == nil || nodeAffinity["required"] == .null {
                errors.append(ValidationError(type: .required, field: "spec.nodeAffinity.required", detail: "must specify required node constraints"))
            } else if terms.isEmpty {
                errors.append(ValidationError(type: .required, field: "spec.nodeAffinity.required.nodeSelectorTerms",
                                              detail: "must have at least one node selector term"))
            }
        }
        var count = 0
        for name in sources {
            guard let source = spec?[name], source != .null else { continue }
            let path = "spec." + name
            if count > 0 {
                errors.append(ValidationError(type: .forbidden, field: path, detail: "may not specify more than 1 volume type"))
                continue
            }
            count += 1
            errors += sourceErrors(name, source, path: path, hasNodeAffinity: !terms.isEmpty)
        }
        if count == 0 {
            errors.append(ValidationError(type: .required, field: "spec", detail: "must specify a volume type"))
        }
        if let hostPath = spec?["hostPath"]?["path"]?.stringValue, hostPath.split(separator: "/").isEmpty, hostPath.hasPrefix("/"),
           spec?["persistentVolumeReclaimPolicy"]?.stringValue == "Recycle" {
            errors.append(ValidationError(type: .forbidden, field: "spec.persistentVolumeReclaimPolicy",
                                          detail: "may not be 'recycle' for a hostPath mount of '/'"))
        }
        return errors
    }

    /// The checks of the sources this server can mount (hostPath, local) and of the common
    /// network ones; the others are stored as given.
    private static func sourceErrors(_ name: String, _ source: JSONValue, path: String, hasNodeAffinity: Bool) -> [ValidationError] {
        var errors: [ValidationError] = []
        switch name {
        case "hostPath":
            let hostPath = source["path"]?.stringValue ?? ""
            if hostPath.isEmpty { errors.append(ValidationError(type: .required, field: path + ".path")) }
            errors += StorageValidation.backstepErrors(hostPath, field: path + ".path")
            if let type = source["type"]?.stringValue, !hostPathTypes.contains(type) {
                errors.append(StorageValidation.notSupported(path + ".type", type, hostPathTypes))
            }
        case "local":
            let localPath = source["path"]?.stringValue ?? ""
            if localPath.isEmpty { errors.append(ValidationError(type: .required, field: path + ".path")) }
            errors += StorageValidation.backstepErrors(localPath, field: path + ".path")
            if !hasNodeAffinity {
                errors.append(ValidationError(type: .required, field: "spec.nodeAffinity", detail: "Local volume requires node affinity"))
            }
        case "nfs":
            if (source["server"]?.stringValue ?? "").isEmpty { errors.append(ValidationError(type: .required, field: path + ".server")) }
            let exportPath = source["path"]?.stringValue ?? ""
            if exportPath.isEmpty {
                errors.append(ValidationError(type: .required, field: path + ".path"))
            } else if !exportPath.hasPrefix("/") {
                errors.append(ValidationError(type: .invalid, field: path + ".path", badValue: .string(exportPath), detail: "must be an absolute path"))
            }
        case "csi":
            if (source["driver"]?.stringValue ?? "").isEmpty { errors.append(ValidationError(type: .required, field: path + ".driver")) }
            if (source["volumeHandle"]?.stringValue ?? "").isEmpty { errors.append(ValidationError(type: .required, field: path + ".volumeHandle")) }
        default:
            break
        }
        return errors
    }
}
