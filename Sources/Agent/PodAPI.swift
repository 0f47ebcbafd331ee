import Foundation
import KubeAPI
import Runtime

/// The part of the Kubernetes API the agent's pod sync uses: the pods bound to this node, their
/// status, and the mirror pods of static pods. The agent does not talk HTTP itself; the CLI
/// implements this with its API client (kubelet's informer on `pods?fieldSelector=spec.nodeName=`,
/// its status manager's `PATCH pods/<name>/status` and its mirror client), tests with a fake.
public protocol PodAPI: Sendable {
    /// `GET /api/v1/pods?fieldSelector=spec.nodeName=<node>`: every pod bound to the node (mirror
    /// pods included) and the list's resourceVersion, where a watch continues.
    func listPods(nodeName: String) async throws -> (pods: [Pod], resourceVersion: String)

    /// `GET /api/v1/pods?watch=1&fieldSelector=spec.nodeName=<node>&resourceVersion=<rv>`: the
    /// changes after `resourceVersion`. The stream ends when the connection does; it throws
    /// `PodAPIError.gone` when the version is too old (HTTP 410 or an ERROR event with code 410),
    /// after which the agent lists again.
    func watchPods(nodeName: String, resourceVersion: String) -> AsyncThrowingStream<PodEvent, any Error>

    /// `GET /api/v1/namespaces/<ns>/pods/<name>`; `PodAPIError.notFound` when there is none.
    func getPod(namespace: String, name: String) async throws -> Pod

    /// Writes `status` to `pods/<name>/status` of the pod with this uid (kubelet's PatchPodStatus
    /// puts `metadata.uid` in its patch so a pod recreated under the same name is never written):
    /// `.notFound` when the pod is gone, `.conflict` when the uid does not match.
    func updatePodStatus(namespace: String, name: String, uid: String, status: PodStatus) async throws

    /// `DELETE` with `gracePeriodSeconds: 0` and `preconditions.uid`: how the agent removes a pod
    /// whose containers are gone, and a mirror pod. `.notFound` when already gone, `.conflict` when
    /// the name now belongs to another pod.
    func deletePod(namespace: String, name: String, uid: String) async throws

    /// `POST /api/v1/namespaces/<ns>/pods`, for mirror pods; returns the pod as created (its uid).
    /// `.conflict` when a pod of that name exists (HTTP 409 AlreadyExists).
    func createPod(_ pod: Pod) async throws -> Pod

    /// `GET /api/v1/namespaces/<ns>/secrets/<name>`: an image pull secret of a pod bound to this
    /// node (the Node authorizer lets a node read only those). `.notFound` when there is none.
    func getPullSecret(namespace: String, name: String) async throws -> PullSecret

    /// `GET /api/v1/namespaces/<ns>/configmaps/<name>`: `data` and `binaryData` as bytes, and
    /// whether it is immutable (kubelet's configmap manager). `.notFound` when there is none.
    func getConfigMap(namespace: String, name: String) async throws -> ConfigObject

    /// `GET /api/v1/namespaces/<ns>/secrets/<name>`: a Secret a pod's volumes or env refer to
    /// (kubelet's secret manager). `.notFound` when there is none.
    func getSecret(namespace: String, name: String) async throws -> ConfigObject

    /// `GET /api/v1/namespaces/<ns>/persistentvolumeclaims/<name>`: a claim a pod's volume names.
    /// `.notFound` when there is none.
    func getPersistentVolumeClaim(namespace: String, name: String) async throws -> JSONValue

    /// `GET /api/v1/persistentvolumes/<name>`: the volume bound to such a claim (the Node
    /// authorizer lets a node read only those). `.notFound` when there is none.
    func getPersistentVolume(name: String) async throws -> JSONValue

    /// `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`: a TokenRequest for a token
    /// bound to the pod (`boundObjectRef` kind Pod with its uid, as kubelet's token manager
    /// asks); the token and when it expires.
    func requestServiceAccountToken(namespace: String, serviceAccount: String, audiences: [String], expirationSeconds: Int64,
                                    podName: String, podUID: String) async throws -> (token: String, expiration: Date)

    /// Records an Event about a pod (`POST /api/v1/namespaces/<ns>/events`; a repeat of the same
    /// reason and message raises the existing Event's `count`, as client-go's correlator does).
    func recordEvent(_ event: PodEventRecord) async throws
}

/// One change seen by a pod watch.
public enum PodEvent: Sendable, Equatable {
    case added(Pod)
    case modified(Pod)
    case deleted(Pod)

    public var pod: Pod {
        switch self {
        case .added(let pod), .modified(let pod), .deleted(let pod): pod
        }
    }
}

/// Why a `PodAPI` call failed, in the categories the agent acts on.
public enum PodAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP 404: the pod does not exist.
    case notFound(String)
    /// HTTP 409: AlreadyExists on create, a failed uid precondition or version conflict otherwise.
    case conflict(String)
    /// HTTP 410 Gone (or a watch ERROR event with code 410): the resourceVersion is too old, list again.
    case gone(String)
    /// The connection to the server failed or broke (none reached, a watch cut off, a server
    /// the client gave up on): try again, against whichever server answers now.
    case unavailable(String)
    /// Anything else (5xx, 403, an unreadable answer...): retried with back-off.
    case other(String)

    public var description: String {
        switch self {
        case .notFound(let message): "not found: \(message)"
        case .conflict(let message): "conflict: \(message)"
        case .gone(let message): "resource version too old (410 Gone): \(message)"
        case .unavailable(let message), .other(let message): message
        }
    }
}

/// The annotations kubelet uses to tell where a pod came from (pkg/kubelet/types/pod_update.go).
public enum PodSourceAnnotation {
    /// "file" for static pods; the agent marks pods from the API server "api".
    public static let source = "kubernetes.io/config.source"
    /// The static pod's hash (its uid here): what a mirror pod points back to.
    public static let hash = "kubernetes.io/config.hash"
    /// Present on mirror pods, with the static pod's hash: such a pod is never run.
    public static let mirror = "kubernetes.io/config.mirror"
}

extension Pod {
    /// A mirror pod: the API's copy of a static pod, never run by an agent.
    public var isMirrorPod: Bool { metadata.annotations?[PodSourceAnnotation.mirror] != nil }
    /// A pod read from the manifest directory.
    public var isStaticPod: Bool { metadata.annotations?[PodSourceAnnotation.source] == "file" }
    /// A pod from the API server (as marked by `APIPodSource`).
    public var isAPIPod: Bool { metadata.annotations?[PodSourceAnnotation.source] == "api" }

    /// "namespace/name": a pod's identity in the API (the uid tells versions of it apart).
    var namespacedName: String { "\(metadata.namespace ?? "default")/\(metadata.name ?? "")" }
}
