/// A container added to a running pod through its `ephemeralcontainers` subresource
/// (`kubectl debug`): every field of `Container` (upstream's inlined `EphemeralContainerCommon`,
/// flat in JSON), plus the container whose namespaces it joins. Never restarted, never removed.
/// See https://kubernetes.io/docs/concepts/workloads/pods/ephemeral-containers/
public struct EphemeralContainer: Codable, Hashable, Sendable {
    public var container: Container
    /// The container of `spec.containers` (or `initContainers`) whose PID namespace this one
    /// joins (`kubectl debug --target`); nil: the pod's (its own, unless the pod shares one).
    public var targetContainerName: String?

    public var name: String { container.name }

    public init(container: Container, targetContainerName: String? = nil) {
        self.container = container
        self.targetContainerName = targetContainerName
    }

    private enum CodingKeys: String, CodingKey { case targetContainerName }

    public init(from decoder: any Decoder) throws {
        container = try Container(from: decoder)
        targetContainerName = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .targetContainerName)
    }

    public func encode(to encoder: any Encoder) throws {
        try container.encode(to: encoder)
        var keyed = encoder.container(keyedBy: CodingKeys.self)
        try keyed.encodeIfPresent(targetContainerName, forKey: .targetContainerName)
    }
}
