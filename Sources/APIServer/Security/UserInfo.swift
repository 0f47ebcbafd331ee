import APIMachinery
import KubeAPI

/// Who a request comes from, as Kubernetes' `user.Info` carries it: a name and groups.
public struct UserInfo: Sendable, Equatable {
    public var name: String
    public var groups: [String]

    public init(name: String, groups: [String]) {
        self.name = name
        self.groups = groups
    }

    /// The group that may do anything (Kubernetes' `system:masters`, bound to cluster-admin).
    public static let mastersGroup = "system:masters"
    /// The group of node identities.
    public static let nodesGroup = "system:nodes"
    static let authenticatedGroup = "system:authenticated"
    static let nodeUserPrefix = "system:node:"

    /// The admin kubeconfig's identity (k3s: `system:admin`).
    public static let admin = UserInfo(name: "system:admin", groups: [mastersGroup, authenticatedGroup])

    /// The identity the API server uses towards agents (`pods/log`, `exec`): Kubernetes'
    /// `kube-apiserver-kubelet-client` certificate, organisation system:masters.
    public static let kubeletClient = UserInfo(name: "kube-apiserver-kubelet-client", groups: [mastersGroup, authenticatedGroup])

    /// A node's identity: `system:node:<name>` in `system:nodes`, as kubelets are named.
    public static func node(_ name: String) -> UserInfo {
        UserInfo(name: nodeUserPrefix + name, groups: [nodesGroup, authenticatedGroup])
    }

    /// The node this identity is, if it is a node's.
    public var nodeName: String? {
        guard groups.contains(Self.nodesGroup), name.hasPrefix(Self.nodeUserPrefix) else { return nil }
        let node = String(name.dropFirst(Self.nodeUserPrefix.count))
        return node.isEmpty ? nil : node
    }

    /// Whether this identity may do anything.
    public var isMaster: Bool { groups.contains(Self.mastersGroup) }

    /// The `status.user` of a TokenReview.
    var reviewJSON: JSONValue {
        .object(["username": .string(name), "uid": .string(""), "groups": .array(groups.map { .string($0) })])
    }
}
