import Foundation

/// `v1.NodeCondition`: one condition of a Node's status (Ready, MemoryPressure,
/// NetworkUnavailable, ...). The rest of the Node types come with joining a cluster.
public struct NodeCondition: Codable, Hashable, Sendable {
    public var type: String
    public var status: String
    public var lastHeartbeatTime: Time?
    public var lastTransitionTime: Time?
    public var reason: String?
    public var message: String?

    public init(type: String, status: String, lastHeartbeatTime: Time? = nil, lastTransitionTime: Time? = nil,
                reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.lastHeartbeatTime = lastHeartbeatTime
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }
}
