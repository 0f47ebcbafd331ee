import APIMachinery
import KubeAPI

/// ControllerRevisions (apps/v1): `ValidateControllerRevisionCreate` and
/// `ValidateControllerRevisionUpdate` (k8s.io/kubernetes/pkg/apis/apps/validation): `data` is
/// required and immutable, `revision` is not negative.
struct ControllerRevisionStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        try validate(object)
        return []
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        try validate(object)
        if object.fields["data"] != old.fields["data"] {
            throw APIError.invalid(kind: "ControllerRevision", group: "apps", name: object.name ?? "", errors: [
                ValidationError(type: .invalid, field: "data", badValue: JobStrategy.badValue(object.fields["data"]), detail: "field is immutable"),
            ])
        }
        return []
    }

    private func validate(_ object: KubeObject) throws(APIError) {
        var errors: [ValidationError] = []
        if object.fields["data"] == nil || object.fields["data"] == .null {
            errors.append(ValidationError(type: .required, field: "data", detail: "data is mandatory"))
        }
        if let revision = object.fields["revision"], revision != .null {
            if let number = revision.intValue {
                if number < 0 {
                    errors.append(ValidationError(type: .invalid, field: "revision", badValue: .int(number), detail: "must be greater than or equal to 0"))
                }
            } else {
                errors.append(ValidationError(type: .invalid, field: "revision", badValue: JobStrategy.badValue(revision), detail: "must be an integer"))
            }
        }
        guard errors.isEmpty else { throw APIError.invalid(kind: "ControllerRevision", group: "apps", name: object.name ?? "", errors: errors) }
    }
}
