/// A `scheduling.k8s.io/v1` PriorityClass: the priority (`value`) a pod naming it gets from
/// the Priority admission plugin, and whether such a pod may preempt lower-priority ones.
/// Cluster-scoped; `value`, `globalDefault`, `description` and `preemptionPolicy` sit at the
/// top level (there is no spec).
/// See https://github.com/kubernetes/api/blob/master/scheduling/v1/types.go
public struct PriorityClass: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    /// `int32`, not `omitempty`: absent reads as 0.
    public var value: Int32
    public var globalDefault: Bool?
    public var description: String?
    /// `PreemptLowerPriority` (the default, `SetDefaults_PriorityClass`) or `Never`.
    public var preemptionPolicy: String?

    public init(apiVersion: String? = "scheduling.k8s.io/v1", kind: String? = "PriorityClass", metadata: ObjectMeta = ObjectMeta(),
                value: Int32 = 0, globalDefault: Bool? = nil, description: String? = nil, preemptionPolicy: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.value = value
        self.globalDefault = globalDefault
        self.description = description
        self.preemptionPolicy = preemptionPolicy
    }

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, value, globalDefault, description, preemptionPolicy
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        value = try container.decodeIfPresent(Int32.self, forKey: .value) ?? 0
        globalDefault = try container.decodeIfPresent(Bool.self, forKey: .globalDefault)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        preemptionPolicy = try container.decodeIfPresent(String.self, forKey: .preemptionPolicy)
    }

    /// `v1.PreemptionPolicy` values.
    public static let preemptLowerPriority = "PreemptLowerPriority"
    public static let preemptNever = "Never"

    /// `scheduling.HighestUserDefinablePriority`: classes not named `system-...` go no higher.
    public static let highestUserDefinablePriority: Int32 = 1_000_000_000
    /// `scheduling.SystemCriticalPriority`.
    public static let systemCriticalPriority: Int32 = 2_000_000_000
    /// `scheduling.SystemPriorityClassPrefix`: names with it are reserved for the system classes.
    public static let systemPrefix = "system-"
    /// The priority of a pod when no class names it and none is the global default
    /// (`scheduling.DefaultPriorityWhenNoDefaultClassExists`).
    public static let defaultPriority: Int32 = 0

    /// The classes the API server creates at start and refuses to delete
    /// (pkg/apis/scheduling/helpers.go `systemPriorityClasses`, same descriptions).
    public static let systemClasses: [PriorityClass] = [
        PriorityClass(metadata: ObjectMeta(name: "system-node-critical"), value: systemCriticalPriority + 1000,
                      description: "Used for system critical pods that must not be moved from their current node."),
        PriorityClass(metadata: ObjectMeta(name: "system-cluster-critical"), value: systemCriticalPriority,
                      description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
    ]

    /// Whether `name` is one of `systemClasses`.
    public static func isSystemClass(_ name: String) -> Bool {
        systemClasses.contains { $0.metadata.name == name }
    }
}
