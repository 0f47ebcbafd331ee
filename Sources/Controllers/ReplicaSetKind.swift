import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI

/// What one ReplicaSet engine manages: apps/v1 ReplicaSets, or core/v1 ReplicationControllers.
/// Upstream's replication manager is the ReplicaSet controller built by `NewBaseController`
/// with the ReplicationController's GroupVersionKind, its own queue and event component, and
/// adapters converting RCs to ReplicaSets (pkg/controller/replication/conversion.go). Objects
/// here are JSON, so the only difference left to convert is the selector's shape.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/replication/replication_controller.go
package struct ReplicaSetKind: Sendable {
    /// The controller's name in `--controllers`.
    package let controllerName: String
    package let resource: ResourceRef
    package let kind: String
    /// The events' source component.
    let component: String
    /// Whether `spec.selector` is a plain map (`labels.SelectorFromSet`) rather than a
    /// `metav1.LabelSelector`.
    let equalitySelector: Bool

    package static let replicaSet = ReplicaSetKind(controllerName: "replicaset", resource: .replicaSets, kind: "ReplicaSet",
                                                   component: "replicaset-controller", equalitySelector: false)
    package static let replicationController = ReplicaSetKind(controllerName: "replicationcontroller", resource: .replicationControllers,
                                                              kind: "ReplicationController", component: "replication-controller",
                                                              equalitySelector: true)

    /// The selector of `object` (one of ours).
    func selector(of object: KubeObject) throws(APIError) -> LabelSelector {
        guard equalitySelector else { return try object.specSelector() }
        // A map converts to `matchLabels` (conversion.go's `Convert_v1_ReplicationControllerSpec_To_apps_ReplicaSetSpec`).
        let labels = (object.value(at: ["spec", "selector"])?.objectValue ?? [:]).compactMapValues(\.stringValue)
        return LabelSelector(set: labels)
    }
}
