import APIMachinery
import KubeAPI

/// PersistentVolumeClaims (core/v1): pkg/registry/core/persistentvolumeclaim/strategy.go with
/// `SetDefaults_PersistentVolumeClaim[Spec]` and `ValidatePersistentVolumeClaim[Update]`
/// (pkg/apis/core/validation/validation.go) and their messages.
///
/// A new claim's status is reset to Pending (the persistentvolume-binder binds it); updates keep
/// the stored status and may change nothing of the spec but `volumeName` (once, while empty),
/// the class when it moves from the beta annotation to the field or is set where it was not,
/// and `resources.requests` of a bound claim (a growth needs a class that allows expansion: the
/// PersistentVolumeClaimResize admission plugin, `ClaimResizeAdmission`; a shrink may not reach
/// the capacity the claim has). New claims get the
/// `kubernetes.io/pvc-protection` finalizer (StorageObjectInUseProtection), which the
/// pvc-protection controller removes once no pod uses the claim.
struct PersistentVolumeClaimStrategy: ResourceStrategy {
    static let kind = "PersistentVolumeClaim"
    static let protectionFinalizer = "kubernetes.io/pvc-protection"

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        Self.setDefaults(&object)
        object.fields["status"] = .object(["phase": .string("Pending")])
        if !object.finalizers.contains(Self.protectionFinalizer) { object.finalizers.append(Self.protectionFinalizer) }
        let errors = Self.specErrors(object)
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: "", name: object.name ?? "", errors: errors) }
        return []
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        Self.setDefaults(&object)
        object.fields["status"] = old.fields["status"]
        var errors = Self.specErrors(object)
        errors += Self.updateErrors(object, old: old)
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: "", name: object.name ?? "", errors: errors) }
        return []
    }

    func prepareForStatusUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        var errors: [ValidationError] = []
        if let phase = object.phase, !["Pending", "Bound", "Lost"].contains(phase) {
            errors.append(StorageValidation.notSupported("status.phase", phase, ["Bound", "Lost", "Pending"]))
        }
        errors += StorageValidation.accessModeErrors(object.value(at: ["status"]), path: "status.accessModes", requiredDetail: "")
            .filter { $0.type != .required }
        let capacity = object.value(at: ["status", "capacity"])?.objectValue ?? [:]
        for name in capacity.keys.sorted() {
            errors += StorageValidation.positiveQuantityErrors(capacity[name] ?? .null, path: "status.capacity[\(name)]")
                .filter { $0.detail != "must be greater than zero" }
        }
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: "", name: object.name ?? "", errors: errors) }
        return []
    }

    /// `SetDefaults_PersistentVolumeClaimSpec`: volumeMode Filesystem.
    static func setDefaults(_ object: inout KubeObject) {
        guard object.fields["spec"]?.objectValue != nil, object.value(at: ["spec", "volumeMode"]) == nil else { return }
        object.set(.string("Filesystem"), at: ["spec", "volumeMode"])
    }

    /// `ValidatePersistentVolumeClaimSpec` of a claim.
    static func specErrors(_ object: KubeObject) -> [ValidationError] {
        specErrors(object.fields["spec"], path: "spec")
    }

    /// `ValidatePersistentVolumeClaimSpec` of the spec at `path` (a claim's, a template's).
    static func specErrors(_ spec: JSONValue?, path: String) -> [ValidationError] {
        var errors = StorageValidation.accessModeErrors(spec, path: path + ".accessModes", requiredDetail: "at least 1 access mode is required")
        errors += StorageValidation.selectorErrors(spec?["selector"], path: path + ".selector")
        // Upstream's path for the request is `spec.resources[storage]` (Key on `resources`).
        if let storage = spec?["resources"]?["requests"]?["storage"], storage != .null {
            errors += StorageValidation.positiveQuantityErrors(storage, path: path + ".resources[storage]")
        } else {
            errors.append(ValidationError(type: .required, field: path + ".resources[storage]"))
        }
        errors += StorageValidation.classNameErrors(spec?["storageClassName"]?.stringValue, path: path + ".storageClassName")
        errors += StorageValidation.volumeModeErrors(spec?["volumeMode"]?.stringValue, path: path + ".volumeMode")
        return errors
    }

    /// `ValidatePersistentVolumeClaimUpdate`: the spec is compared with what may change set
    /// back to the stored values.
    static func updateErrors(_ object: KubeObject, old: KubeObject) -> [ValidationError] {
        var errors: [ValidationError] = []
        var newSpec = object.fields["spec"]?.objectValue ?? [:]
        var oldSpec = old.fields["spec"]?.objectValue ?? [:]
        // The binder sets volumeName once.
        if (old.string(at: ["spec", "volumeName"]) ?? "").isEmpty { oldSpec["volumeName"] = newSpec["volumeName"] }
        let betaOld = old.annotations[KubeObject.betaStorageClassAnnotation]
        let betaNew = object.annotations[KubeObject.betaStorageClassAnnotation]
        if let betaOld, betaNew == nil || betaNew == betaOld, oldSpec["storageClassName"] == nil,
           newSpec["storageClassName"]?.stringValue == betaOld {
            // `validateStorageClassUpgradeFromAnnotation`: the annotation's class moved to the field.
            newSpec["storageClassName"] = nil
        } else {
            if betaNew != betaOld {
                errors.append(ValidationError(type: .forbidden, field: "metadata.annotations[\(KubeObject.betaStorageClassAnnotation)]",
                                              detail: "field is immutable"))
            }
            // `validateStorageClassUpgradeFromNil`: a class may be set where there was none.
            if betaOld == nil, oldSpec["storageClassName"] == nil || oldSpec["storageClassName"] == .null {
                newSpec["storageClassName"] = nil
            }
        }
        let oldSize = old.requestedStorage, newSize = object.requestedStorage
        if object.phase == "Bound", var resources = newSpec["resources"]?.objectValue, var requests = resources["requests"]?.objectValue {
            requests["storage"] = old.value(at: ["spec", "resources", "requests", "storage"])
            resources["requests"] = .object(requests)
            newSpec["resources"] = .object(resources)
        }
        if JSONValue.object(newSpec) != JSONValue.object(oldSpec) {
            errors.append(ValidationError(type: .forbidden, field: "spec",
                                          detail: "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
        }
        // RecoverVolumeExpansionFailure (beta, on in 1.32): a request may come back down after a
        // failed expansion, but not to the capacity the volume has or below.
        if let oldSize, let newSize, newSize < oldSize,
           newSize <= (old.value(at: ["status", "capacity", "storage"]).flatMap(KubeObject.quantity) ?? Quantity(value: 0)) {
            errors.append(ValidationError(type: .forbidden, field: "spec.resources.requests.storage",
                                          detail: "field can not be less than status.capacity"))
        }
        if object.volumeMode != old.volumeMode {
            errors.append(ValidationError(type: .invalid, field: "volumeMode", badValue: .string(object.volumeMode), detail: "field is immutable"))
        }
        return errors
    }
}
