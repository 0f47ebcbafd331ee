/// The `DisruptionAllowed` condition of a PodDisruptionBudget's status, kept as the disruption
/// controller and the eviction subresource keep it (k8s.io/component-helpers/apps/poddisruptionbudget
/// `UpdateDisruptionAllowedCondition`, over apimachinery's `meta.SetStatusCondition`).
public enum DisruptionConditions {
    /// `conditions` with `DisruptionAllowed` set: True/SufficientPods when `allowed`, else False
    /// with `reason` (InsufficientPods, or SyncFailed with the error as message). The
    /// transition time changes only when the status does (`SetStatusCondition`).
    public static func setAllowed(_ conditions: [JSONValue], allowed: Bool, reason: String, message: String,
                                  observedGeneration: Int64, now: String) -> [JSONValue] {
        var conditions = conditions
        let status = allowed ? "True" : "False"
        let index = conditions.firstIndex { $0["type"]?.stringValue == PodDisruptionBudget.disruptionAllowedCondition }
        var transition = now
        if let index, conditions[index]["status"]?.stringValue == status,
           let previous = conditions[index]["lastTransitionTime"]?.stringValue, !previous.isEmpty {
            transition = previous
        }
        var condition: [String: JSONValue] = [
            "type": .string(PodDisruptionBudget.disruptionAllowedCondition), "status": .string(status),
            "lastTransitionTime": .string(transition), "reason": .string(reason), "message": .string(message),
        ]
        if observedGeneration != 0 { condition["observedGeneration"] = .int(observedGeneration) }
        if let index {
            conditions[index] = .object(condition)
        } else {
            conditions.append(.object(condition))
        }
        return conditions
    }

    /// `ConditionsAreUpToDate`: the condition exists, the budget's generation was observed,
    /// and the condition says what `disruptionsAllowed` says.
    public static func upToDate(_ conditions: [JSONValue], disruptionsAllowed: Int64, observedGeneration: Int64, generation: Int64) -> Bool {
        guard observedGeneration == generation,
              let condition = conditions.first(where: { $0["type"]?.stringValue == PodDisruptionBudget.disruptionAllowedCondition }) else {
            return false
        }
        if disruptionsAllowed > 0 {
            return condition["status"]?.stringValue == "True" && condition["reason"]?.stringValue == PodDisruptionBudget.sufficientPodsReason
        }
        return condition["status"]?.stringValue == "False" && condition["reason"]?.stringValue == PodDisruptionBudget.insufficientPodsReason
    }
}
