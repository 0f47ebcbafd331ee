import Agent
import Foundation
import KubeAPI
import KubeClient
import Logging
import NodeNetwork
import Synchronization

/// The agent's view of the cluster's Nodes (a list+watch): it keeps this node's uid (mirror
/// pods name their Node as owner) and, with a pod network, a host-gw route to every other
/// node's pod CIDR through that node's InternalIP (flannel's host-gw backend does the same).
final class ClusterNodes: Sendable {
    let client: APIClient
    let nodeName: String
    let logger: Logger
    private let state = Mutex<(ownUID: String?, network: BridgeNetwork?, nodes: [String: Node])>((nil, nil, [:]))

    init(client: APIClient, nodeName: String, logger: Logger) {
        self.client = client
        self.nodeName = nodeName
        self.logger = logger
    }

    /// This node's uid, once it is known.
    var ownUID: String? { state.withLock { $0.ownUID } }

    /// Starts keeping routes on `network` (once the pod network is up).
    func manageRoutes(on network: BridgeNetwork) {
        state.withLock { $0.network = network }
        syncRoutes()
    }

    /// Lists and watches Nodes until cancelled.
    func run() async {
        await Reflector<Node>(client: client, path: "/api/v1/nodes", logger: logger).run { event in
            state.withLock { state in
                switch event {
                case .replaced(let nodes):
                    state.nodes = Dictionary(nodes.map { ($0.metadata.name ?? "", $0) }, uniquingKeysWith: { $1 })
                case .added(let node), .modified(let node):
                    state.nodes[node.metadata.name ?? ""] = node
                case .deleted(let node):
                    state.nodes[node.metadata.name ?? ""] = nil
                }
                state.ownUID = state.nodes[nodeName]?.metadata.uid
            }
            syncRoutes()
        }
    }

    /// The routes this node needs: every other node with a pod CIDR and an InternalIP.
    static func routes(for nodes: [Node], excluding nodeName: String) -> [NodeRoute] {
        nodes.compactMap { node in
            guard node.metadata.name != nodeName, let cidr = node.spec.podCIDR, !cidr.isEmpty,
                  let ip = node.status.addresses?.first(where: { $0.type == "InternalIP" })?.address else { return nil }
            return NodeRoute(podCIDR: cidr, nodeIP: ip)
        }.sorted { $0.podCIDR < $1.podCIDR }
    }

    private func syncRoutes() {
        let (network, nodes) = state.withLock { ($0.network, Array($0.nodes.values)) }
        guard let network else { return }
        do {
            try network.syncRoutes(Self.routes(for: nodes, excluding: nodeName))
        } catch {
            logger.error("cannot sync routes to other nodes' pods", metadata: ["error": "\(error)"])
        }
    }
}
