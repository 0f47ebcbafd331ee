import KubeAPI

/// The Kubernetes API calls the node status reporter and the node lease make: the seam
/// between the agent and the HTTPS client (module KubeClient implements it; tests use a fake).
/// Every call is one request; retries, back-off and conflict handling are the caller's.
public protocol NodeAPI: Sendable {
    /// GET /api/v1/nodes/<name>; nil when there is no such Node (404).
    func getNode(name: String) async throws -> Node?
    /// POST /api/v1/nodes. Throws `NodeAPIError.alreadyExists` when the name is taken.
    func createNode(_ node: Node) async throws -> Node
    /// PUT /api/v1/nodes/<name> (metadata and spec; the server keeps the status), with
    /// `metadata.resourceVersion` as precondition: `NodeAPIError.conflict` when stale.
    func updateNode(_ node: Node) async throws -> Node
    /// PUT /api/v1/nodes/<name>/status (the server keeps metadata and spec), with
    /// `metadata.resourceVersion` as precondition: `NodeAPIError.conflict` when stale.
    func updateNodeStatus(_ node: Node) async throws -> Node
    /// GET /apis/coordination.k8s.io/v1/namespaces/<namespace>/leases/<name>; nil on 404.
    func getLease(namespace: String, name: String) async throws -> Lease?
    /// POST .../namespaces/<namespace>/leases. Throws `.alreadyExists` when the name is taken.
    func createLease(_ lease: Lease) async throws -> Lease
    /// PUT .../namespaces/<namespace>/leases/<name> with `resourceVersion`: `.conflict` when stale.
    func updateLease(_ lease: Lease) async throws -> Lease
}

/// The failures of `NodeAPI` the agent acts on; the client maps its errors onto these
/// (a `Status` with reason NotFound, AlreadyExists, Conflict; anything else is `.other`).
public enum NodeAPIError: Error, Equatable, CustomStringConvertible {
    /// 404: the object does not exist (it was deleted under us).
    case notFound(String)
    /// 409 AlreadyExists on create.
    case alreadyExists(String)
    /// 409 Conflict on update: the resourceVersion sent is not the latest.
    case conflict(String)
    /// Anything else (unreachable server, 401/403, 5xx), with the client's message.
    case other(String)

    public var description: String {
        switch self {
        case .notFound(let message), .alreadyExists(let message), .conflict(let message), .other(let message):
            return message
        }
    }
}
