import Foundation
import Images

/// Pulls images from registries for the agent (CRI's `PullImage`): the agent decides when
/// (pull policy, back-off, one pull at a time), an implementation decides how. The registry
/// client implements it (ClusterAgent's `RegistryImagePuller`), tests with fakes; the agent
/// itself knows nothing of HTTP.
public protocol ImagePuller: Sendable {
    /// Pulls `image` (as the pod spec writes it) with the credentials of the pod's pull
    /// secrets; throws `ImagePullError` with the message to show in the container's status.
    func pull(_ image: String, pullSecrets: [PullSecret]) async throws -> ImagePullResult
}

/// A pull secret as the agent read it from the API: its type and decoded data
/// (`kubernetes.io/dockerconfigjson` with `.dockerconfigjson`, or `kubernetes.io/dockercfg`).
public struct PullSecret: Sendable, Equatable {
    public var name: String
    public var type: String
    public var data: [String: Data]

    public init(name: String, type: String, data: [String: Data]) {
        self.name = name
        self.type = type
        self.data = data
    }
}

/// What a pull stored.
public struct ImagePullResult: Sendable {
    /// The image as stored.
    public var image: Image
    /// `name@sha256:…` of what the reference resolved to: the container's `imageID`.
    public var repoDigest: String

    public init(image: Image, repoDigest: String) {
        self.image = image
        self.repoDigest = repoDigest
    }
}

/// A failed pull, in the words of the container runtime (containerd's texts), shown as the
/// `ErrImagePull` message.
public struct ImagePullError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The registry could not be reached (kubelet's `RegistryUnavailable`).
    public var registryUnavailable: Bool

    public init(_ message: String, registryUnavailable: Bool = false) {
        self.message = message
        self.registryUnavailable = registryUnavailable
    }

    public var description: String { message }
}
