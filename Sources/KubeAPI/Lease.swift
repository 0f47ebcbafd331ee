/// A `coordination.k8s.io/v1` Lease. Each node's agent renews `kube-node-lease/<node>` as its
/// heartbeat (cheaper than rewriting the whole Node status); the node lifecycle controller
/// reads `renewTime`. See https://github.com/kubernetes/api/blob/master/coordination/v1/types.go
public struct Lease: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: LeaseSpec

    /// The namespace of node heartbeat leases.
    public static let nodeLeaseNamespace = "kube-node-lease"

    public init(apiVersion: String? = "coordination.k8s.io/v1", kind: String? = "Lease",
                metadata: ObjectMeta = ObjectMeta(), spec: LeaseSpec = LeaseSpec()) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
    }

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, spec
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(LeaseSpec.self, forKey: .spec) ?? LeaseSpec()
    }
}

/// `v1.LeaseSpec`; every field is optional (`omitempty` pointers upstream).
public struct LeaseSpec: Codable, Hashable, Sendable {
    public var holderIdentity: String?
    public var leaseDurationSeconds: Int32?
    public var acquireTime: MicroTime?
    public var renewTime: MicroTime?
    public var leaseTransitions: Int32?
    /// Coordinated leader election (1.31+ alpha): "OldestEmulationVersion".
    public var strategy: String?
    public var preferredHolder: String?

    /// Memberwise initializer; every field defaults to unset.
    public init(holderIdentity: String? = nil, leaseDurationSeconds: Int32? = nil, acquireTime: MicroTime? = nil,
                renewTime: MicroTime? = nil, leaseTransitions: Int32? = nil, strategy: String? = nil,
                preferredHolder: String? = nil) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
        self.strategy = strategy
        self.preferredHolder = preferredHolder
    }
}
