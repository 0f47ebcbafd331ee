import Foundation
import Glibc
import KubeAPI
import Runtime
import Synchronization

/// The node's conditions as the agent knows them, kept in `<data-dir>/node-status.json` (what
/// `swiftlet node` prints). Joining a cluster will publish the same conditions in the Node's
/// status; until then this file is where the node reports them.
public final class NodeStatusStore: Sendable {
    public let path: String
    private let conditions = Mutex<[NodeCondition]>([])

    public init(dataDirectory: String) {
        path = dataDirectory + "/node-status.json"
        if let data = FileManager.default.contents(atPath: path),
           let stored = try? JSONDecoder().decode(Stored.self, from: data) {
            conditions.withLock { $0 = stored.conditions }
        }
    }

    struct Stored: Codable {
        var conditions: [NodeCondition]
    }

    /// Sets a condition; the transition time changes only when the status does, as in kubelet.
    public func set(_ type: String, status: Bool, reason: String, message: String) {
        let now = Time.now()
        let value = status ? "True" : "False"
        let all = conditions.withLock { list -> [NodeCondition] in
            let transition = list.first { $0.type == type && $0.status == value }?.lastTransitionTime ?? now
            list.removeAll { $0.type == type }
            list.append(NodeCondition(type: type, status: value, lastHeartbeatTime: now, lastTransitionTime: transition,
                                      reason: reason, message: message))
            return list
        }
        guard let data = try? JSONEncoder().encode(Stored(conditions: all)) else { return }
        try? AtomicFile.write(data, to: path, creatingDirectory: true)
    }

    public func all() -> [NodeCondition] { conditions.withLock { $0 } }

    /// kubelet's wording for the pod network condition (set by the cloud route controller or
    /// the network plugin on Kubernetes; by the agent itself here).
    public func networkUnavailable(_ unavailable: Bool, reason: String, message: String) {
        set("NetworkUnavailable", status: unavailable, reason: reason, message: message)
    }
}
