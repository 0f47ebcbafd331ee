import APIMachinery
import KubeAPI

/// PodTemplates (core/v1): a named pod template and nothing else. The template gets a pod's
/// defaults and `ValidatePodTemplate`'s checks (k8s.io/kubernetes/pkg/apis/core/validation);
/// `metadata.generation` starts at 1 and grows with every change of `template`, as
/// pkg/registry/core/podtemplate/strategy.go does (there is no `spec` to track).
struct PodTemplateStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.generation = 1
        return try prepare(&object, context: context)
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let warnings = try prepare(&object, context: context)
        if object.fields["template"] != old.fields["template"] {
            object.generation = (old.generation ?? 0) + 1
        }
        return warnings
    }

    private func prepare(_ object: inout KubeObject, context: StrategyContext) throws(APIError) -> [String] {
        var template = object.fields["template"] ?? .object([:])
        let (errors, warnings) = try Self.prepareTemplate(&template, path: "template", kind: "PodTemplate", version: "v1", context: context)
        object.fields["template"] = template
        guard errors.isEmpty else { throw APIError.invalid(kind: "PodTemplate", group: "", name: object.name ?? "", errors: errors) }
        return warnings
    }

    /// A `PodTemplateSpec` at `path` (`template`, `spec.template`) defaulted as a pod's spec is
    /// (`SetDefaults_PodSpec` and friends) and checked by `ValidatePodTemplateSpec`: the
    /// labels (upstream's path is `<path>.labels`, without `metadata`), the pod spec, and no
    /// ephemeral containers. Returns the validation errors and the decoding warnings.
    static func prepareTemplate(_ template: inout JSONValue, path: String, kind: String, version: String,
                                context: StrategyContext) throws(APIError) -> ([ValidationError], [String]) {
        let labels = (template["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        var errors = ObjectValidation.validateLabels(labels, path: path + ".labels")
        let (spec, warnings) = try TypedCodec.decode(PodSpec.self, from: template["spec"] ?? .object([:]), kind: kind, version: version,
                                                     pathPrefix: path + ".spec.", validation: context.fieldValidation)
        let defaulted = spec.withTemplateDefaults()
        errors += ObjectValidation.validatePodTemplateSpec(defaulted, path: path + ".spec")
        if !(defaulted.ephemeralContainers ?? []).isEmpty {
            errors.append(ValidationError(type: .forbidden, field: path + ".spec.ephemeralContainers",
                                          detail: "ephemeral containers not allowed in pod template"))
        }
        var fields = template.objectValue ?? [:]
        fields["spec"] = try TypedCodec.encode(defaulted)
        template = .object(fields)
        return (errors, warnings)
    }
}
