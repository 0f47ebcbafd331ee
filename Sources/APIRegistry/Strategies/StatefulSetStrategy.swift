import APIMachinery
import KubeAPI

/// StatefulSets (apps/v1): `SetDefaults_StatefulSet` (OrderedReady, RollingUpdate with
/// partition 0, Retain/Retain claim retention, 1 replica, revisionHistoryLimit 10) and
/// `ValidateStatefulSet` / `ValidateStatefulSetUpdate` (k8s.io/kubernetes/pkg/apis/apps/validation)
/// with their messages. Status is kept from the stored object on update (the controller
/// writes the status subresource).
///
/// `volumeClaimTemplates` get a claim's defaults (volumeMode Filesystem, status phase Pending:
/// the generated `SetObjectDefaults_StatefulSet`) and, beyond upstream (which validates them
/// only when the controller creates the claims, reporting a FailedCreate event), the claim
/// spec's checks at once, so a broken template is refused by `kubectl apply`. The pod
/// template's volume mounts may name the templates.
struct StatefulSetStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = nil
        return try prepare(&object, context: context)
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = old.fields["status"]
        let warnings = try prepare(&object, context: context)
        // Only these may change; everything else of the spec is fixed at creation.
        let mutable = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                       "persistentVolumeClaimRetentionPolicy", "minReadySeconds"]
        var newSpec = object.value(at: ["spec"])?.objectValue ?? [:]
        var oldSpec = old.value(at: ["spec"])?.objectValue ?? [:]
        for key in mutable {
            newSpec[key] = nil
            oldSpec[key] = nil
        }
        if newSpec != oldSpec {
            throw APIError.invalid(kind: "StatefulSet", group: "apps", name: object.name ?? "", errors: [
                ValidationError(type: .forbidden, field: "spec",
                                detail: "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
                                    + "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"),
            ])
        }
        return warnings
    }

    private func prepare(_ object: inout KubeObject, context: StrategyContext) throws(APIError) -> [String] {
        Self.setDefaults(&object)
        var errors = Self.validateSpec(object)
        let templateSpec = object.value(at: ["spec", "template", "spec"]) ?? .object([:])
        let (spec, warnings) = try TypedCodec.decode(PodSpec.self, from: templateSpec, kind: "StatefulSet", version: "apps/v1",
                                                     pathPrefix: "spec.template.spec.", validation: context.fieldValidation)
        let defaulted = spec.withTemplateDefaults()
        // The claim templates stand for volumes of the same name (`updateStorage` adds them to
        // each pod), so mounts naming them are valid.
        var withClaims = defaulted
        for name in Self.claimTemplateNames(object) where !(withClaims.volumes ?? []).contains(where: { $0.name == name }) {
            withClaims.volumes = (withClaims.volumes ?? []) + [Volume(name: name, persistentVolumeClaim: PersistentVolumeClaimVolumeSource(claimName: name))]
        }
        errors += ObjectValidation.validatePodTemplateSpec(withClaims, path: "spec.template.spec")
        if let policy = defaulted.restartPolicy, policy != "Always" {
            errors.append(ValidationError(type: .notSupported, field: "spec.template.spec.restartPolicy", badValue: .string(policy),
                                          detail: "supported values: \"Always\""))
        }
        if templateSpec["activeDeadlineSeconds"] != nil, templateSpec["activeDeadlineSeconds"] != .null {
            errors.append(ValidationError(type: .forbidden, field: "spec.template.spec.activeDeadlineSeconds",
                                          detail: "activeDeadlineSeconds in StatefulSet is not Supported"))
        }
        object.set(try TypedCodec.encode(defaulted), at: ["spec", "template", "spec"])
        errors += try WorkloadStrategy.templateSelectorErrors(object, subject: "statefulset")
        guard errors.isEmpty else { throw APIError.invalid(kind: "StatefulSet", group: "apps", name: object.name ?? "", errors: errors) }
        return warnings
    }

    /// `SetDefaults_StatefulSet` of apps/v1.
    static func setDefaults(_ object: inout KubeObject) {
        if (object.string(at: ["spec", "podManagementPolicy"]) ?? "").isEmpty {
            object.set(.string("OrderedReady"), at: ["spec", "podManagementPolicy"])
        }
        if (object.string(at: ["spec", "updateStrategy", "type"]) ?? "").isEmpty {
            object.set(.string("RollingUpdate"), at: ["spec", "updateStrategy", "type"])
            if object.value(at: ["spec", "updateStrategy", "rollingUpdate"]) == nil {
                object.set(.object([:]), at: ["spec", "updateStrategy", "rollingUpdate"])
            }
        }
        if object.string(at: ["spec", "updateStrategy", "type"]) == "RollingUpdate",
           object.value(at: ["spec", "updateStrategy", "rollingUpdate"])?.objectValue != nil,
           object.value(at: ["spec", "updateStrategy", "rollingUpdate", "partition"]) == nil {
            object.set(.int(0), at: ["spec", "updateStrategy", "rollingUpdate", "partition"])
        }
        for key in ["whenDeleted", "whenScaled"] where object.value(at: ["spec", "persistentVolumeClaimRetentionPolicy", key]) == nil {
            object.set(.string("Retain"), at: ["spec", "persistentVolumeClaimRetentionPolicy", key])
        }
        if var templates = object.value(at: ["spec", "volumeClaimTemplates"])?.arrayValue {
            for index in templates.indices where templates[index].objectValue != nil {
                var template = KubeObject(fields: templates[index].objectValue ?? [:])
                PersistentVolumeClaimStrategy.setDefaults(&template)
                if template.value(at: ["status", "phase"]) == nil { template.set(.string("Pending"), at: ["status", "phase"]) }
                templates[index] = template.json
            }
            object.set(.array(templates), at: ["spec", "volumeClaimTemplates"])
        }
        if object.value(at: ["spec", "replicas"]) == nil { object.set(.int(1), at: ["spec", "replicas"]) }
        if object.value(at: ["spec", "revisionHistoryLimit"]) == nil { object.set(.int(10), at: ["spec", "revisionHistoryLimit"]) }
    }

    /// `ValidateStatefulSetSpec` without the pod template (validated as a pod's).
    static func validateSpec(_ object: KubeObject) -> [ValidationError] {
        var errors: [ValidationError] = []
        let policy = object.string(at: ["spec", "podManagementPolicy"]) ?? ""
        if policy != "OrderedReady", policy != "Parallel" {
            errors.append(ValidationError(type: .invalid, field: "spec.podManagementPolicy", badValue: .string(policy),
                                          detail: "must be 'OrderedReady' or 'Parallel'"))
        }
        let strategy = object.string(at: ["spec", "updateStrategy", "type"]) ?? ""
        let rollingUpdate = object.value(at: ["spec", "updateStrategy", "rollingUpdate"])
        switch strategy {
        case "OnDelete":
            if let rollingUpdate, rollingUpdate != .null {
                errors.append(ValidationError(type: .invalid, field: "spec.updateStrategy.rollingUpdate", badValue: JobStrategy.badValue(rollingUpdate),
                                              detail: "only allowed for updateStrategy 'RollingUpdate'"))
            }
        case "RollingUpdate":
            if let partition = rollingUpdate?["partition"], partition != .null {
                if let number = partition.intValue {
                    if number < 0 {
                        errors.append(ValidationError(type: .invalid, field: "spec.updateStrategy.rollingUpdate.partition", badValue: .int(number),
                                                      detail: "must be greater than or equal to 0"))
                    }
                } else {
                    errors.append(ValidationError(type: .invalid, field: "spec.updateStrategy.rollingUpdate.partition",
                                                  badValue: JobStrategy.badValue(partition), detail: "must be an integer"))
                }
            }
        default:
            errors.append(ValidationError(type: .invalid, field: "spec.updateStrategy", badValue: JobStrategy.badValue(object.value(at: ["spec", "updateStrategy"])),
                                          detail: "must be 'RollingUpdate' or 'OnDelete'"))
        }
        for (key, path) in [("replicas", ["spec", "replicas"]), ("minReadySeconds", ["spec", "minReadySeconds"]),
                            ("revisionHistoryLimit", ["spec", "revisionHistoryLimit"]), ("ordinals.start", ["spec", "ordinals", "start"])] {
            if let value = object.value(at: path)?.intValue, value < 0 {
                errors.append(ValidationError(type: .invalid, field: "spec.\(key)", badValue: .int(value), detail: "must be greater than or equal to 0"))
            }
        }
        for key in ["whenDeleted", "whenScaled"] {
            let value = object.string(at: ["spec", "persistentVolumeClaimRetentionPolicy", key]) ?? ""
            if value != "Retain", value != "Delete" {
                errors.append(ValidationError(type: .notSupported, field: "spec.persistentVolumeClaimRetentionPolicy.\(key)", badValue: .string(value),
                                              detail: "supported values: \"Retain\", \"Delete\""))
            }
        }
        var names: Set<String> = []
        for (index, template) in (object.value(at: ["spec", "volumeClaimTemplates"])?.arrayValue ?? []).enumerated() {
            let path = "spec.volumeClaimTemplates[\(index)]"
            let name = template["metadata"]?["name"]?.stringValue ?? ""
            if name.isEmpty {
                errors.append(ValidationError(type: .required, field: path + ".metadata.name", detail: "name or generateName is required"))
            } else {
                errors += NameRules.dns1123Subdomain(name).map { ValidationError(type: .invalid, field: path + ".metadata.name", badValue: .string(name), detail: $0) }
                if !names.insert(name).inserted { errors.append(ValidationError(type: .duplicate, field: path + ".metadata.name", badValue: .string(name))) }
            }
            errors += PersistentVolumeClaimStrategy.specErrors(template["spec"], path: path + ".spec")
        }
        return errors
    }

    static func claimTemplateNames(_ object: KubeObject) -> [String] {
        (object.value(at: ["spec", "volumeClaimTemplates"])?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue }
    }
}
