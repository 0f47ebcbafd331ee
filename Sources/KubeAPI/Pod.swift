/// A Kubernetes `v1.Pod`.
public struct Pod: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var status: PodStatus?

    /// A v1 Pod; metadata and spec default to empty.
    public init(
        apiVersion: String? = "v1",
        kind: String? = "Pod",
        metadata: ObjectMeta = ObjectMeta(),
        spec: PodSpec = PodSpec(),
        status: PodStatus? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}
