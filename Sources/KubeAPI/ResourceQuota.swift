/// A Kubernetes `core/v1.ResourceQuota`: hard limits on what a namespace may consume (object
/// counts, compute requests and limits), and the usage the resource quota controller and the
/// ResourceQuota admission plugin keep in its status.
/// See https://kubernetes.io/docs/concepts/policy/resource-quotas/
public struct ResourceQuota: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ResourceQuotaSpec?
    public var status: ResourceQuotaStatus?

    public init(apiVersion: String? = "v1", kind: String? = "ResourceQuota", metadata: ObjectMeta = ObjectMeta(),
                spec: ResourceQuotaSpec? = nil, status: ResourceQuotaStatus? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    private enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec, status }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(ResourceQuotaSpec.self, forKey: .spec)
        status = try container.decodeIfPresent(ResourceQuotaStatus.self, forKey: .status)
    }
}

/// `core/v1.ResourceQuotaSpec`.
public struct ResourceQuotaSpec: Codable, Hashable, Sendable {
    public var hard: [String: Quantity]?
    /// Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass, CrossNamespacePodAffinity.
    public var scopes: [String]?
    public var scopeSelector: ScopeSelector?

    public init(hard: [String: Quantity]? = nil, scopes: [String]? = nil, scopeSelector: ScopeSelector? = nil) {
        self.hard = hard
        self.scopes = scopes
        self.scopeSelector = scopeSelector
    }

    /// The quota's scopes as selector requirements (`getScopeSelectorsFromQuota`): each of
    /// `scopes` as an `Exists` requirement, then the scope selector's expressions.
    public var scopeRequirements: [ScopedResourceSelectorRequirement] {
        (scopes ?? []).map { ScopedResourceSelectorRequirement(scopeName: $0, operator: "Exists") }
            + (scopeSelector?.matchExpressions ?? [])
    }
}

/// `core/v1.ResourceQuotaStatus`.
public struct ResourceQuotaStatus: Codable, Hashable, Sendable {
    public var hard: [String: Quantity]?
    public var used: [String: Quantity]?

    public init(hard: [String: Quantity]? = nil, used: [String: Quantity]? = nil) {
        self.hard = hard
        self.used = used
    }
}

/// `core/v1.ScopeSelector`.
public struct ScopeSelector: Codable, Hashable, Sendable {
    public var matchExpressions: [ScopedResourceSelectorRequirement]?

    public init(matchExpressions: [ScopedResourceSelectorRequirement]? = nil) {
        self.matchExpressions = matchExpressions
    }
}

/// `core/v1.ScopedResourceSelectorRequirement`: a scope and an operator (In, NotIn, Exists,
/// DoesNotExist) over values (PriorityClass names).
public struct ScopedResourceSelectorRequirement: Codable, Hashable, Sendable {
    public var scopeName: String
    public var `operator`: String
    public var values: [String]?

    public init(scopeName: String, operator: String, values: [String]? = nil) {
        self.scopeName = scopeName
        self.operator = `operator`
        self.values = values
    }

    private enum CodingKeys: String, CodingKey { case scopeName, `operator`, values }

    /// Missing strings decode as "" (Go's zero value): validation reports them.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        scopeName = try container.decodeIfPresent(String.self, forKey: .scopeName) ?? ""
        `operator` = try container.decodeIfPresent(String.self, forKey: .operator) ?? ""
        values = try container.decodeIfPresent([String].self, forKey: .values)
    }
}
