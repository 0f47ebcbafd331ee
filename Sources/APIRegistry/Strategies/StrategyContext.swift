import KubeAPI

/// What a strategy may use besides the object: the time, whether the request is a dry
/// run, and shared allocators.
package struct StrategyContext: Sendable {
    /// The request's time, for timestamps.
    let now: Time
    let dryRun: Bool
    /// `fieldValidation`: Strict (kubectl), Warn (the default) or Ignore.
    let fieldValidation: FieldValidation
    let services: ServiceAllocator
}

/// `fieldValidation` of create, update and patch requests.
package enum FieldValidation: String, Sendable {
    case strict = "Strict"
    case warn = "Warn"
    case ignore = "Ignore"
}
