import APIMachinery
import KubeAPI

/// StorageClasses (storage.k8s.io/v1): pkg/registry/storage/storageclass/strategy.go with
/// `SetDefaults_StorageClass` (reclaimPolicy Delete, volumeBindingMode Immediate) and
/// `ValidateStorageClass[Update]` (pkg/apis/storage/validation/validation.go) and their
/// messages. The provisioner, parameters, reclaim policy and binding mode never change.
struct StorageClassStrategy: ResourceStrategy {
    static let kind = "StorageClass"
    static let group = "storage.k8s.io"
    static let bindingModes = ["Immediate", "WaitForFirstConsumer"]
    /// `maxProvisionerParameterLen` and `maxProvisionerParameterSize`.
    static let maximumParameters = 512
    static let maximumParameterBytes = 256 * 1024

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        Self.setDefaults(&object)
        let errors = Self.errors(object)
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: Self.group, name: object.name ?? "", errors: errors) }
        return []
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        Self.setDefaults(&object)
        var errors = Self.errors(object)
        if (object.fields["parameters"] ?? .object([:])).objectValue ?? [:] != (old.fields["parameters"] ?? .object([:])).objectValue ?? [:] {
            errors.append(ValidationError(type: .forbidden, field: "parameters", detail: "updates to parameters are forbidden."))
        }
        if object.string(at: ["provisioner"]) != old.string(at: ["provisioner"]) {
            errors.append(ValidationError(type: .forbidden, field: "provisioner", detail: "updates to provisioner are forbidden."))
        }
        if object.string(at: ["reclaimPolicy"]) != old.string(at: ["reclaimPolicy"]) {
            errors.append(ValidationError(type: .forbidden, field: "reclaimPolicy", detail: "updates to reclaimPolicy are forbidden."))
        }
        if let mode = object.string(at: ["volumeBindingMode"]), mode != old.string(at: ["volumeBindingMode"]) {
            errors.append(ValidationError(type: .invalid, field: "volumeBindingMode", badValue: .string(mode), detail: "field is immutable"))
        }
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: Self.group, name: object.name ?? "", errors: errors) }
        return []
    }

    static func setDefaults(_ object: inout KubeObject) {
        if object.fields["reclaimPolicy"] == nil || object.fields["reclaimPolicy"] == .null {
            object.fields["reclaimPolicy"] = .string("Delete")
        }
        if object.fields["volumeBindingMode"] == nil || object.fields["volumeBindingMode"] == .null {
            object.fields["volumeBindingMode"] = .string("Immediate")
        }
    }

    static func errors(_ object: KubeObject) -> [ValidationError] {
        var errors: [ValidationError] = []
        let provisioner = object.string(at: ["provisioner"]) ?? ""
        if provisioner.isEmpty {
            errors.append(ValidationError(type: .required, field: "provisioner"))
        } else {
            errors += NameRules.qualifiedName(provisioner.lowercased())
                .map { ValidationError(type: .invalid, field: "provisioner", badValue: .string(provisioner.lowercased()), detail: $0) }
        }
        let parameters = object.fields["parameters"]?.objectValue ?? [:]
        if parameters.count > maximumParameters {
            errors.append(ValidationError(type: .tooLong, field: "parameters", detail: "may not be more than \(maximumParameters) bytes"))
        } else {
            var size = 0
            for key in parameters.keys.sorted() {
                if key.isEmpty {
                    errors.append(ValidationError(type: .invalid, field: "parameters", badValue: .string(key), detail: "field can not be empty."))
                }
                size += key.utf8.count + (parameters[key]?.stringValue?.utf8.count ?? 0)
            }
            if size > maximumParameterBytes {
                errors.append(ValidationError(type: .tooLong, field: "parameters", detail: "may not be more than \(maximumParameterBytes) bytes"))
            }
        }
        if let policy = object.string(at: ["reclaimPolicy"]), !policy.isEmpty, policy != "Delete", policy != "Retain" {
            errors.append(StorageValidation.notSupported("reclaimPolicy", policy, ["Delete", "Retain"]))
        }
        if let mode = object.string(at: ["volumeBindingMode"]), !bindingModes.contains(mode) {
            errors.append(StorageValidation.notSupported("volumeBindingMode", mode, bindingModes))
        }
        for (index, term) in (object.fields["allowedTopologies"]?.arrayValue ?? []).enumerated() {
            if (term["matchLabelExpressions"]?.arrayValue ?? []).isEmpty {
                errors.append(ValidationError(type: .required, field: "allowedTopologies[\(index)].matchLabelExpressions",
                                              detail: "must have at least one label selector requirement"))
            }
        }
        return errors
    }
}
