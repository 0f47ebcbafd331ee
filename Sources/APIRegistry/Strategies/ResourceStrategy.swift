import APIMachinery
import KubeAPI

/// The per-resource part of create, update and delete (Kubernetes' RESTCreateStrategy,
/// RESTUpdateStrategy and RESTGracefulDeleteStrategy): defaults, status handling and
/// validation. The generic metadata handling lives in `ResourceStore`.
package protocol ResourceStrategy: Sendable {
    /// Defaults, status reset and validation of a new object whose metadata (name,
    /// namespace, uid, creationTimestamp) is already filled in. Returns warnings.
    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String]

    /// The same for a replacement of `old` through the main resource.
    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String]

    /// Validation of a write through the `status` subresource: `object` is the stored object
    /// with the request's status (nothing else changes there). Returns warnings.
    func prepareForStatusUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String]

    /// Validation of a write through pods' `ephemeralcontainers` subresource: `object` is the
    /// stored pod with the request's `spec.ephemeralContainers` (nothing else changes there).
    func prepareForEphemeralContainersUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String]

    /// Whether `ObjectValidation.validateMetadata` is done by the strategy itself (Pod's
    /// validation includes it), so the store must not report it twice.
    var validatesMetadata: Bool { get }

    /// Whether an update without a resourceVersion replaces the object anyway.
    var allowsUnconditionalUpdate: Bool { get }

    /// Whether DELETE answers the deleted object rather than a `Status`.
    var returnsDeletedObject: Bool { get }

    /// The grace period of a deletion: nil deletes at once; a positive number of seconds
    /// marks the object with a deletionTimestamp and leaves it to its owner (the kubelet).
    func gracePeriod(for object: KubeObject, requested: Int64?) -> Int64?

    /// The outcome of a create whose `prepareForCreate` succeeded: `stored` is false when
    /// nothing was written (a dry run, a later check failed, the write failed). Strategies that
    /// hold something outside the object (a Service's cluster IP and node ports) give it back
    /// here, as kube-apiserver's service registry reverts its allocation transaction.
    func finishCreate(_ object: KubeObject, stored: Bool, context: StrategyContext) async

    /// The outcome of an update or patch whose `prepareForUpdate` succeeded (once per attempt:
    /// a write that lost a race is retried and reported as not stored).
    func finishUpdate(_ object: KubeObject, old: KubeObject, stored: Bool, context: StrategyContext) async

    /// The object is gone from the store.
    func finishDelete(_ object: KubeObject, context: StrategyContext) async
}

extension ResourceStrategy {
    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] { [] }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] { [] }

    func prepareForStatusUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] { [] }

    func prepareForEphemeralContainersUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        throw APIError.pathNotFound()
    }

    var validatesMetadata: Bool { false }
    var allowsUnconditionalUpdate: Bool { true }
    var returnsDeletedObject: Bool { false }
    func gracePeriod(for object: KubeObject, requested: Int64?) -> Int64? { nil }
    func finishCreate(_ object: KubeObject, stored: Bool, context: StrategyContext) async {}
    func finishUpdate(_ object: KubeObject, old: KubeObject, stored: Bool, context: StrategyContext) async {}
    func finishDelete(_ object: KubeObject, context: StrategyContext) async {}
}

/// Resources with no behaviour of their own (events, configmaps, leases, ...).
struct DefaultStrategy: ResourceStrategy {}
