import APIMachinery
import KubeAPI

/// Events of core/v1 and of events.k8s.io/v1 (pkg/registry/core/event/strategy.go): both
/// validated on the core form with `EventValidation`, strictly when the request came through
/// events.k8s.io/v1 (upstream passes the request's version to ValidateEventCreate/Update).
/// Unconditional updates are allowed, as upstream's event strategy does.
struct EventStrategy: ResourceStrategy {
    /// The events.k8s.io/v1 form (converted to the stored form to be validated).
    let eventsV1: Bool

    private var conversion: EventsV1Conversion? { eventsV1 ? EventsV1Conversion() : nil }

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let core = conversion?.toStored(object) ?? object
        let errors = EventValidation.validateCreate(core, strict: eventsV1)
        guard errors.isEmpty else { throw invalid(object, errors) }
        return []
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        let core = conversion?.toStored(object) ?? object
        let oldCore = conversion?.toStored(old) ?? old
        let errors = EventValidation.validateUpdate(core, old: oldCore, strict: eventsV1)
        guard errors.isEmpty else { throw invalid(object, errors) }
        return []
    }

    private func invalid(_ object: KubeObject, _ errors: [ValidationError]) -> APIError {
        APIError.invalid(kind: "Event", group: eventsV1 ? "events.k8s.io" : "", name: object.name ?? "", errors: errors)
    }
}
