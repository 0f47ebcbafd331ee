import APIMachinery
import KubeAPI

/// `networking.k8s.io/v1` Ingresses, as pkg/registry/networking/ingress/strategy.go handles
/// them: decoded into `KubeAPI.Ingress`, validated with `IngressValidation` (Kubernetes' paths
/// and messages), the status reset on create and kept on update (only `ingresses/status`
/// writes it, and then only it), the generation bumped by the store when the spec changes.
/// The spec is stored as the typed value encodes it, so what every node's ingress proxy reads
/// back is exactly what was validated. The class is defaulted before this, by
/// `DefaultIngressClassAdmission`.
struct IngressStrategy: ResourceStrategy {
    /// Metadata errors are reported with the spec's, in one Invalid error, as upstream does.
    var validatesMetadata: Bool { true }

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (ingress, warnings) = try Self.decode(object, context: context)
        let errors = IngressValidation.validateCreate(ingress)
        guard errors.isEmpty else { throw Self.invalid(ingress, errors) }
        object.fields["spec"] = try TypedCodec.encode(ingress.spec)
        // `PrepareForCreate`: create cannot set status.
        object.fields["status"] = .object(["loadBalancer": .object([:])])
        return warnings
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (ingress, warnings) = try Self.decode(object, context: context)
        let (oldIngress, _) = try Self.decode(old, context: context, validation: .ignore)
        let errors = IngressValidation.validateUpdate(ingress, old: oldIngress)
        guard errors.isEmpty else { throw Self.invalid(ingress, errors) }
        object.fields["spec"] = try TypedCodec.encode(ingress.spec)
        // `PrepareForUpdate`: an update is not allowed to set status.
        object.fields["status"] = old.fields["status"]
        return warnings
    }

    /// `ingressStatusStrategy`: the spec stays (the store keeps everything but the status),
    /// the load balancer addresses must be IPs and DNS names.
    func prepareForStatusUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let (ingress, warnings) = try Self.decode(object, context: context)
        let errors = IngressValidation.statusErrors(ingress.status)
        guard errors.isEmpty else { throw Self.invalid(ingress, errors) }
        if let status = ingress.status {
            object.fields["status"] = try TypedCodec.encode(status)
        }
        return warnings
    }

    private static func decode(_ object: KubeObject, context: StrategyContext,
                               validation: FieldValidation? = nil) throws(APIError) -> (Ingress, [String]) {
        try TypedCodec.decode(Ingress.self, from: object.json, kind: "Ingress", version: "v1",
                              validation: validation ?? context.fieldValidation)
    }

    private static func invalid(_ ingress: Ingress, _ errors: [ValidationError]) -> APIError {
        APIError.invalid(kind: "Ingress", group: "networking.k8s.io", name: ingress.metadata.name ?? "", errors: errors)
    }
}
