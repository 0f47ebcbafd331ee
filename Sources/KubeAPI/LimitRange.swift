/// A Kubernetes `core/v1.LimitRange`: per-container, per-pod and per-claim bounds and the
/// defaults the LimitRanger admission plugin gives containers that declare no resources.
/// See https://kubernetes.io/docs/concepts/policy/limit-range/
public struct LimitRange: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: LimitRangeSpec?

    public init(apiVersion: String? = "v1", kind: String? = "LimitRange", metadata: ObjectMeta = ObjectMeta(),
                spec: LimitRangeSpec? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
    }

    private enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(LimitRangeSpec.self, forKey: .spec)
    }
}

/// `core/v1.LimitRangeSpec`.
public struct LimitRangeSpec: Codable, Hashable, Sendable {
    public var limits: [LimitRangeItem]?

    public init(limits: [LimitRangeItem]? = nil) {
        self.limits = limits
    }
}

/// `core/v1.LimitRangeItem`: bounds of one type (Container, Pod, PersistentVolumeClaim).
public struct LimitRangeItem: Codable, Hashable, Sendable {
    public static let container = "Container"
    public static let pod = "Pod"
    public static let persistentVolumeClaim = "PersistentVolumeClaim"

    public var type: String
    public var max: [String: Quantity]?
    public var min: [String: Quantity]?
    public var `default`: [String: Quantity]?
    public var defaultRequest: [String: Quantity]?
    public var maxLimitRequestRatio: [String: Quantity]?

    public init(type: String, max: [String: Quantity]? = nil, min: [String: Quantity]? = nil,
                default: [String: Quantity]? = nil, defaultRequest: [String: Quantity]? = nil,
                maxLimitRequestRatio: [String: Quantity]? = nil) {
        self.type = type
        self.max = max
        self.min = min
        self.default = `default`
        self.defaultRequest = defaultRequest
        self.maxLimitRequestRatio = maxLimitRequestRatio
    }

    private enum CodingKeys: String, CodingKey { case type, max, min, `default`, defaultRequest, maxLimitRequestRatio }

    /// A missing type decodes as "" (Go's zero value): validation reports it.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decodeIfPresent(String.self, forKey: .type) ?? ""
        max = try container.decodeIfPresent([String: Quantity].self, forKey: .max)
        min = try container.decodeIfPresent([String: Quantity].self, forKey: .min)
        `default` = try container.decodeIfPresent([String: Quantity].self, forKey: .default)
        defaultRequest = try container.decodeIfPresent([String: Quantity].self, forKey: .defaultRequest)
        maxLimitRequestRatio = try container.decodeIfPresent([String: Quantity].self, forKey: .maxLimitRequestRatio)
    }
}
