import Agent
import Foundation
import Images
import Registry

/// The agent's `ImagePuller` over the registry client: a pod's pull secrets become a docker
/// keyring (kubelet's MakeDockerKeyring), the registry file's mirrors, credentials and TLS
/// settings apply, and failures keep containerd's wording for the container status.
public struct RegistryImagePuller: ImagePuller {
    public let puller: RegistryPuller

    public init(puller: RegistryPuller) {
        self.puller = puller
    }

    public func pull(_ image: String, pullSecrets: [PullSecret]) async throws -> ImagePullResult {
        do {
            let keyring = try DockerKeyring(secrets: pullSecrets.map {
                DockerKeyring.Secret(name: $0.name, type: $0.type, data: $0.data)
            })
            let pulled = try await puller.pull(image, keyring: keyring)
            return ImagePullResult(image: pulled.image, repoDigest: pulled.repoDigest)
        } catch let error as RegistryError {
            throw ImagePullError(error.message)
        }
    }
}
