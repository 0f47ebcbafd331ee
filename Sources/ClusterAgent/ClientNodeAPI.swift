import Agent
import Foundation
import KubeAPI
import KubeClient

/// The agent's `NodeAPI` over the Kubernetes API: its Node (and `status`) and its Lease in
/// `kube-node-lease`.
struct ClientNodeAPI: NodeAPI {
    let client: APIClient

    private static func leasePath(_ namespace: String, _ name: String? = nil) -> String {
        "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases" + (name.map { "/\($0)" } ?? "")
    }

    func getNode(name: String) async throws -> Node? {
        do {
            return try await client.get("/api/v1/nodes/\(name)", as: Node.self)
        } catch let error as APIClientError where error.isNotFound {
            return nil
        } catch {
            throw Self.nodeError(error)
        }
    }

    func createNode(_ node: Node) async throws -> Node {
        try await mapErrors { try await client.create("/api/v1/nodes", node) }
    }

    func updateNode(_ node: Node) async throws -> Node {
        try await mapErrors { try await client.update("/api/v1/nodes/\(node.metadata.name ?? "")", node) }
    }

    func updateNodeStatus(_ node: Node) async throws -> Node {
        try await mapErrors { try await client.update("/api/v1/nodes/\(node.metadata.name ?? "")/status", node) }
    }

    func getLease(namespace: String, name: String) async throws -> Lease? {
        do {
            return try await client.get(Self.leasePath(namespace, name), as: Lease.self)
        } catch let error as APIClientError where error.isNotFound {
            return nil
        } catch {
            throw Self.nodeError(error)
        }
    }

    func createLease(_ lease: Lease) async throws -> Lease {
        try await mapErrors { try await client.create(Self.leasePath(lease.metadata.namespace ?? Lease.nodeLeaseNamespace), lease) }
    }

    func updateLease(_ lease: Lease) async throws -> Lease {
        try await mapErrors {
            try await client.update(Self.leasePath(lease.metadata.namespace ?? Lease.nodeLeaseNamespace, lease.metadata.name ?? ""), lease)
        }
    }

    private func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw Self.nodeError(error)
        }
    }

    static func nodeError(_ error: any Error) -> any Error {
        guard let error = error as? APIClientError else { return NodeAPIError.other("\(error)") }
        if error.isNotFound { return NodeAPIError.notFound(error.description) }
        if error.isAlreadyExists { return NodeAPIError.alreadyExists(error.description) }
        if error.isConflict { return NodeAPIError.conflict(error.description) }
        return NodeAPIError.other(error.description)
    }
}
