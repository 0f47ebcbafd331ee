/// A `policy/v1` PodDisruptionBudget: how many of the pods its selector matches may be down
/// at once through voluntary disruptions (evictions, `kubectl drain`). The disruption
/// controller keeps its status; the eviction subresource reads and decrements it.
/// See https://github.com/kubernetes/api/blob/master/policy/v1/types.go
public struct PodDisruptionBudget: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PodDisruptionBudgetSpec
    public var status: PodDisruptionBudgetStatus?

    public init(apiVersion: String? = "policy/v1", kind: String? = "PodDisruptionBudget", metadata: ObjectMeta = ObjectMeta(),
                spec: PodDisruptionBudgetSpec = PodDisruptionBudgetSpec(), status: PodDisruptionBudgetStatus? = nil) {
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
        spec = try container.decodeIfPresent(PodDisruptionBudgetSpec.self, forKey: .spec) ?? PodDisruptionBudgetSpec()
        status = try container.decodeIfPresent(PodDisruptionBudgetStatus.self, forKey: .status)
    }

    /// `UnhealthyPodEvictionPolicyType` values (policy/v1 types.go).
    public static let ifHealthyBudget = "IfHealthyBudget"
    public static let alwaysAllow = "AlwaysAllow"
    /// The condition the disruption controller keeps, and its reasons.
    public static let disruptionAllowedCondition = "DisruptionAllowed"
    public static let sufficientPodsReason = "SufficientPods"
    public static let insufficientPodsReason = "InsufficientPods"
    public static let syncFailedReason = "SyncFailed"
    /// The `StatusCause` type of an eviction refused by a budget (`policyv1.DisruptionBudgetCause`).
    public static let disruptionBudgetCause = "DisruptionBudget"
}

/// `v1.PodDisruptionBudgetSpec`. At most one of `minAvailable` and `maxUnavailable`.
public struct PodDisruptionBudgetSpec: Codable, Hashable, Sendable {
    public var minAvailable: IntOrString?
    /// A `metav1.LabelSelector`, kept as JSON (the API's selector helpers read it). In policy/v1
    /// `{}` selects every pod of the namespace and null none.
    public var selector: JSONValue?
    public var maxUnavailable: IntOrString?
    /// IfHealthyBudget (nil behaves so) or AlwaysAllow.
    public var unhealthyPodEvictionPolicy: String?

    public init(minAvailable: IntOrString? = nil, selector: JSONValue? = nil, maxUnavailable: IntOrString? = nil,
                unhealthyPodEvictionPolicy: String? = nil) {
        self.minAvailable = minAvailable
        self.selector = selector
        self.maxUnavailable = maxUnavailable
        self.unhealthyPodEvictionPolicy = unhealthyPodEvictionPolicy
    }
}

/// `v1.PodDisruptionBudgetStatus`: the four counts are always present (no `omitempty`).
public struct PodDisruptionBudgetStatus: Codable, Hashable, Sendable {
    public var observedGeneration: Int64?
    /// Pods the eviction subresource let go, by name, with when (RFC 3339); the controller
    /// drops an entry once the pod is gone or two minutes passed.
    public var disruptedPods: [String: String]?
    public var disruptionsAllowed: Int32
    public var currentHealthy: Int32
    public var desiredHealthy: Int32
    public var expectedPods: Int32
    public var conditions: [JSONValue]?

    public init(observedGeneration: Int64? = nil, disruptedPods: [String: String]? = nil, disruptionsAllowed: Int32 = 0,
                currentHealthy: Int32 = 0, desiredHealthy: Int32 = 0, expectedPods: Int32 = 0, conditions: [JSONValue]? = nil) {
        self.observedGeneration = observedGeneration
        self.disruptedPods = disruptedPods
        self.disruptionsAllowed = disruptionsAllowed
        self.currentHealthy = currentHealthy
        self.desiredHealthy = desiredHealthy
        self.expectedPods = expectedPods
        self.conditions = conditions
    }

    private enum CodingKeys: String, CodingKey {
        case observedGeneration, disruptedPods, disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods, conditions
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        observedGeneration = try container.decodeIfPresent(Int64.self, forKey: .observedGeneration)
        disruptedPods = try container.decodeIfPresent([String: String].self, forKey: .disruptedPods)
        disruptionsAllowed = try container.decodeIfPresent(Int32.self, forKey: .disruptionsAllowed) ?? 0
        currentHealthy = try container.decodeIfPresent(Int32.self, forKey: .currentHealthy) ?? 0
        desiredHealthy = try container.decodeIfPresent(Int32.self, forKey: .desiredHealthy) ?? 0
        expectedPods = try container.decodeIfPresent(Int32.self, forKey: .expectedPods) ?? 0
        conditions = try container.decodeIfPresent([JSONValue].self, forKey: .conditions)
    }
}

extension IntOrString {
    /// `intstr.GetScaledValueFromIntOrPercent`: an integer as it is, a percentage of `total`
    /// rounded up or down; nil for a string that is not `<digits>%`.
    public func scaled(total: Int, roundUp: Bool) -> Int? {
        switch self {
        case .int(let value):
            return Int(value)
        case .string(let text):
            let digits = text.dropLast()
            guard text.hasSuffix("%"), !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let percent = Int(digits) else { return nil }
            let (product, overflow) = percent.multipliedReportingOverflow(by: total)
            guard !overflow, product <= Int.max - 99 else { return nil }
            return roundUp ? (product + 99) / 100 : product / 100
        }
    }
}
