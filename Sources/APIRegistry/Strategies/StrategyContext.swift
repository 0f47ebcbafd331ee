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
    /// Who writes, for `metadata.managedFields`: the request's `fieldManager`, else its user
    /// agent's product (`kubectl`); the control plane's own writes are `swiftlet`'s, as k3s'
    /// are `k3s`'s.
    package var fieldManager: String = "swiftlet"
    /// Set by server-side apply, whose result already carries its `managedFields`: the write
    /// keeps them instead of recording an update.
    package var managedFieldsApplied = false
}

/// `fieldValidation` of create, update and patch requests.
package enum FieldValidation: String, Sendable {
    case strict = "Strict"
    case warn = "Warn"
    case ignore = "Ignore"
}
