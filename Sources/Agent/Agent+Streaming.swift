import KubeAPI
import Runtime

/// Finding a pod's containers for the kubelet API's `/exec`, `/attach` and `/portForward`.
extension Agent {
    /// What a lookup by namespace and name found.
    public enum StreamingLookup<Found: Sendable>: Sendable {
        case found(Found)
        /// No pod of that namespace and name runs here (kubelet: 404 "pod does not exist").
        case podNotFound
        /// The pod is here, the container is not running (kubelet: `container not found ("c")`).
        case notRunning
    }

    /// The running container `container` of the pod `namespace/name`; with `uid`, only if the
    /// pod has that uid (kubelet's `/exec/{ns}/{pod}/{uid}/{container}` form).
    public func runningContainer(namespace: String, pod name: String, uid: String? = nil,
                                 container: String) async -> StreamingLookup<StreamingContainer> {
        guard let worker = worker(namespace: namespace, name: name, uid: uid) else { return .podNotFound }
        guard let found = await worker.runningContainer(container) else { return .notRunning }
        return .found(found)
    }

    /// The sandbox of the running pod `namespace/name`.
    public func runningSandbox(namespace: String, pod name: String, uid: String? = nil) async -> StreamingLookup<RunningSandbox> {
        guard let worker = worker(namespace: namespace, name: name, uid: uid) else { return .podNotFound }
        guard let sandbox = await worker.runningSandbox() else { return .notRunning }
        return .found(sandbox)
    }
}
