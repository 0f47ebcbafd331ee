import KubeAPI
import Runtime

/// What `kubectl exec`, `attach` and `port-forward` need of the pod this worker runs.
extension PodWorker {
    /// The running start of container `name` (an app or init container), with its spec and
    /// the pod's sandbox; nil when it is not running (kubelet's findContainer finds none).
    func runningContainer(_ name: String) -> StreamingContainer? {
        guard !finished, let sandbox, let slot = slots[name], let current = slot.current else { return nil }
        return StreamingContainer(container: current, spec: slot.spec, sandbox: sandbox)
    }

    /// The pod's sandbox while the pod runs: its network namespace is where port-forward
    /// connects.
    func runningSandbox() -> RunningSandbox? {
        finished ? nil : sandbox
    }
}

/// A running container as exec finds it: the process to enter, its spec and its pod's sandbox.
public struct StreamingContainer: Sendable {
    public let container: RunningContainer
    public let spec: Container
    public let sandbox: RunningSandbox
}
