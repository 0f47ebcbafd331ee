/// The result of a DELETE: gone, or marked for deletion and waiting (grace period or finalizers).
public enum DeleteOutcome: Sendable {
    case deleted(KubeObject)
    case pending(KubeObject)
}
