import APIMachinery
import KubeAPI

/// ReplicationControllers (core/v1), ReplicaSet's predecessor with an equality-only selector
/// (a plain map). Defaults of `SetDefaults_ReplicationController` (pkg/apis/core/v1/defaults.go:
/// an empty selector and empty labels are the template's labels, replicas 1), the checks of
/// `ValidateReplicationController` and `ValidateReplicationControllerStatus`
/// (pkg/apis/core/validation) with their messages and field paths, and the status handling of
/// pkg/registry/core/replicationcontroller/strategy.go: reset on create, kept from the stored
/// object on update (the controller writes the status subresource). The selector, unlike
/// apps/v1's, may change.
struct ReplicationControllerStrategy: ResourceStrategy {
    static let kind = "ReplicationController"
    static let int32Max = Int64(Int32.max)

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        // `ReplicationControllerStatus.replicas` has no omitempty: a new RC says `replicas: 0`.
        object.fields["status"] = .object(["replicas": .int(0)])
        return try prepare(&object, context: context)
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = old.fields["status"]
        return try prepare(&object, context: context)
    }

    func prepareForStatusUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let errors = Self.statusErrors(object.value(at: ["status"]))
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: "", name: object.name ?? "", errors: errors) }
        return []
    }

    private func prepare(_ object: inout KubeObject, context: StrategyContext) throws(APIError) -> [String] {
        // int32 fields: Kubernetes' JSON decoder refuses what does not fit, before any default.
        for key in ["replicas", "minReadySeconds"] {
            if let value = object.value(at: ["spec", key])?.intValue, value > Self.int32Max || value < -Self.int32Max - 1 {
                throw APIError.badRequest("\(Self.kind) in version \"v1\" cannot be handled as a \(Self.kind): json: cannot unmarshal number \(value) into Go struct field ReplicationControllerSpec.spec.\(key) of type int32")
            }
        }
        Self.applyDefaults(&object)
        var errors: [ValidationError] = []
        var warnings: [String] = []
        if let seconds = object.value(at: ["spec", "minReadySeconds"])?.intValue, seconds < 0 {
            errors.append(ValidationError(type: .invalid, field: "spec.minReadySeconds", badValue: .int(seconds),
                                          detail: "must be greater than or equal to 0"))
        }
        let selector = Self.selector(of: object)
        if selector.isEmpty {
            errors.append(ValidationError(type: .required, field: "spec.selector"))
        }
        if let replicas = object.value(at: ["spec", "replicas"])?.intValue, replicas < 0 {
            errors.append(ValidationError(type: .invalid, field: "spec.replicas", badValue: .int(replicas),
                                          detail: "must be greater than or equal to 0"))
        }
        // `ValidatePodTemplateSpecForRC`.
        if var template = object.value(at: ["spec", "template"]), template != .null {
            let labels = (template["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            if !selector.isEmpty, !selector.allSatisfy({ labels[$0.key] == $0.value }) {
                errors.append(ValidationError(type: .invalid, field: "spec.template.metadata.labels", badValue: .json(TypedCodec.goMap(labels)),
                                              detail: "`selector` does not match template `labels`"))
            }
            let (templateErrors, templateWarnings) = try PodTemplateStrategy.prepareTemplate(&template, path: "spec.template", kind: Self.kind,
                                                                                             version: "v1", context: context)
            errors += templateErrors
            warnings += templateWarnings
            let policy = template["spec"]?["restartPolicy"]?.stringValue ?? ""
            if policy != "Always" {
                errors.append(ValidationError(type: .notSupported, field: "spec.template.spec.restartPolicy", badValue: .string(policy),
                                              detail: "supported values: \"Always\""))
            }
            if let deadline = template["spec"]?["activeDeadlineSeconds"]?.intValue {
                errors.append(ValidationError(type: .invalid, field: "spec.template.spec.activeDeadlineSeconds", badValue: .int(deadline),
                                              detail: "must not be specified"))
            }
            object.set(template, at: ["spec", "template"])
        } else {
            errors.append(ValidationError(type: .required, field: "spec.template"))
        }
        guard errors.isEmpty else { throw APIError.invalid(kind: Self.kind, group: "", name: object.name ?? "", errors: errors) }
        return warnings
    }

    /// `SetDefaults_ReplicationController`: with template labels, an empty selector becomes
    /// them and so do empty object labels; replicas default to 1.
    static func applyDefaults(_ object: inout KubeObject) {
        if let labels = object.value(at: ["spec", "template", "metadata", "labels"]), let map = labels.objectValue {
            if selector(of: object).isEmpty {
                object.set(.object(map), at: ["spec", "selector"])
            }
            if object.labels.isEmpty {
                object.metadata["labels"] = .object(map)
            }
        }
        if object.value(at: ["spec", "replicas"]) == nil || object.value(at: ["spec", "replicas"]) == .null {
            object.set(.int(1), at: ["spec", "replicas"])
        }
    }

    /// `spec.selector`, an equality selector (`map[string]string`).
    static func selector(of object: KubeObject) -> [String: String] {
        (object.value(at: ["spec", "selector"])?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    /// `ValidateReplicationControllerStatus`: counts not negative, none above `replicas`, and
    /// no more available than ready replicas.
    static func statusErrors(_ status: JSONValue?) -> [ValidationError] {
        var errors: [ValidationError] = []
        func count(_ key: String) -> Int64 { status?[key]?.intValue ?? 0 }
        for key in ["replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"] where count(key) < 0 {
            errors.append(ValidationError(type: .invalid, field: "status.\(key)", badValue: .int(count(key)),
                                          detail: "must be greater than or equal to 0"))
        }
        for key in ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"] where count(key) > count("replicas") {
            errors.append(ValidationError(type: .invalid, field: "status.\(key)", badValue: .int(count(key)),
                                          detail: "cannot be greater than status.replicas"))
        }
        if count("availableReplicas") > count("readyReplicas") {
            errors.append(ValidationError(type: .invalid, field: "status.availableReplicas", badValue: .int(count("availableReplicas")),
                                          detail: "cannot be greater than readyReplicas"))
        }
        return errors
    }
}
