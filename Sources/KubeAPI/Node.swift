/// A Kubernetes `v1.Node`: one machine of the cluster, registered and kept up to date by its
/// agent (kubelet), read by the scheduler and the node lifecycle controller.
///
/// Decoding is lenient (unknown fields are ignored; `spec` and `status` may be missing);
/// encoding omits unset optional fields as Kubernetes' `omitempty` does, while `spec` and
/// `status` are always written, as Go writes struct fields.
/// See https://github.com/kubernetes/api/blob/master/core/v1/types.go (`type Node struct`).
public struct Node: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: NodeSpec
    public var status: NodeStatus

    /// A v1 Node; everything else defaults to empty.
    public init(apiVersion: String? = "v1", kind: String? = "Node", metadata: ObjectMeta = ObjectMeta(),
                spec: NodeSpec = NodeSpec(), status: NodeStatus = NodeStatus()) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, spec, status
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(NodeSpec.self, forKey: .spec) ?? NodeSpec()
        status = try container.decodeIfPresent(NodeStatus.self, forKey: .status) ?? NodeStatus()
    }
}

/// `v1.NodeSpec`: what the control plane decides about a node (its pod range, taints,
/// whether it is cordoned).
public struct NodeSpec: Codable, Hashable, Sendable {
    /// The node's pod range ("10.42.1.0/24"), assigned by the server's node IPAM.
    public var podCIDR: String?
    /// `podCIDR` first, then at most one range of the other IP family.
    public var podCIDRs: [String]?
    /// `<provider>://<id>` of a cloud machine.
    public var providerID: String?
    /// Cordoned: no new pods are scheduled here (`kubectl cordon`).
    public var unschedulable: Bool?
    public var taints: [Taint]?
    /// Deprecated upstream (dynamic kubelet config); kept opaque so old objects decode.
    public var configSource: JSONValue?
    /// Deprecated upstream; kept so old objects decode.
    public var externalID: String?

    /// Memberwise initializer; every field defaults to unset.
    public init(podCIDR: String? = nil, podCIDRs: [String]? = nil, providerID: String? = nil,
                unschedulable: Bool? = nil, taints: [Taint]? = nil, configSource: JSONValue? = nil,
                externalID: String? = nil) {
        self.podCIDR = podCIDR
        self.podCIDRs = podCIDRs
        self.providerID = providerID
        self.unschedulable = unschedulable
        self.taints = taints
        self.configSource = configSource
        self.externalID = externalID
    }
}

/// `v1.Taint`: repels pods that do not tolerate it (`key=value:NoSchedule`).
public struct Taint: Codable, Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var value: String?
    /// "NoSchedule", "PreferNoSchedule" or "NoExecute".
    public var effect: String
    /// When a NoExecute taint was added (set by the node lifecycle controller).
    public var timeAdded: Time?

    /// The effects Kubernetes knows (`v1.TaintEffect`).
    public static let effects = ["NoSchedule", "PreferNoSchedule", "NoExecute"]

    public init(key: String, value: String? = nil, effect: String, timeAdded: Time? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }

    /// `key=value:Effect` (or `key:Effect`), as kubectl prints and `--register-with-taints` reads.
    public var description: String {
        if let value, !value.isEmpty { return "\(key)=\(value):\(effect)" }
        return "\(key):\(effect)"
    }
}

extension Node {
    /// Why `key=value` cannot be a label (empty when it can), in Kubernetes' words: the key is a
    /// qualified name (`prefix/name`), the value at most 63 characters of `[-A-Za-z0-9_.]`.
    public static func labelProblems(key: String, value: String) -> [String] {
        NameRules.qualifiedName(key).map { "key \(ObjectValidation.quote(key)): \($0)" }
            + NameRules.labelValue(value).map { "value \(ObjectValidation.quote(value)): \($0)" }
    }
}
