import APIMachinery
import KubeAPI

/// Who a request comes from, as Kubernetes' `user.Info` carries it: a name and groups.
public struct UserInfo: Sendable, Equatable {
    public var name: String
    public var groups: [String]
    /// The uid of the object the identity stands for (a service account's); may be empty.
    public var uid: String
    /// What else the authenticator knows (a service-account token's pod and node), as
    /// Kubernetes' `user.Info.GetExtra`.
    public var extra: [String: [String]]

    public init(name: String, groups: [String], uid: String = "", extra: [String: [String]] = [:]) {
        self.name = name
        self.groups = groups
        self.uid = uid
        self.extra = extra
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

    static let serviceAccountPrefix = "system:serviceaccount:"
    /// Every service account's group (and `system:serviceaccounts:NS` per namespace).
    public static let serviceAccountsGroup = "system:serviceaccounts"

    /// `system:serviceaccount:NS:NAME` (apiserver's `serviceaccount.MakeUsername`).
    public static func serviceAccountUsername(namespace: String, name: String) -> String {
        serviceAccountPrefix + namespace + ":" + name
    }

    /// A service account's identity, as kube-apiserver's service-account authenticator makes
    /// it: groups system:serviceaccounts, system:serviceaccounts:NS and system:authenticated.
    public static func serviceAccount(namespace: String, name: String, uid: String = "", extra: [String: [String]] = [:]) -> UserInfo {
        UserInfo(name: serviceAccountUsername(namespace: namespace, name: name),
                 groups: [serviceAccountsGroup, serviceAccountsGroup + ":" + namespace, authenticatedGroup], uid: uid, extra: extra)
    }

    /// The namespace and name of the service account this identity is, if it is one's.
    public var serviceAccount: (namespace: String, name: String)? {
        guard groups.contains(Self.serviceAccountsGroup), name.hasPrefix(Self.serviceAccountPrefix) else { return nil }
        let parts = name.dropFirst(Self.serviceAccountPrefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
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
        var user: [String: JSONValue] = ["username": .string(name), "uid": .string(uid), "groups": .array(groups.map { .string($0) })]
        if !extra.isEmpty {
            user["extra"] = .object(extra.mapValues { .array($0.map { .string($0) }) })
        }
        return .object(user)
    }
}
