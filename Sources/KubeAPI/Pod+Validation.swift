extension Pod {
    /// Checks the pod as the API server does on create (`ValidatePodCreate`), returning every
    /// problem as a Kubernetes-rendered `ValidationError`.
    ///
    /// Validate a defaulted pod, as the API server does: `pod.withDefaults().validate()`.
    /// Without defaults, fields Kubernetes always fills in (restartPolicy, dnsPolicy,
    /// imagePullPolicy, namespace, ...) are reported as "Required value".
    public func validate() -> [ValidationError] {
        var validator = PodValidator()
        validator.validate(self)
        return validator.errors
    }

    /// The pod itself when `validate()` finds nothing; otherwise throws all problems as one
    /// `InvalidObjectError` (`Pod "web" is invalid: [..., ...]`).
    public func validated() throws -> Pod {
        let errors = validate()
        guard errors.isEmpty else {
            throw InvalidObjectError(kind: "Pod", name: metadata.name ?? "", errors: errors)
        }
        return self
    }
}
