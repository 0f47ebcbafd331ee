import Foundation
import KubeAPI
import Runtime

/// Reads the ConfigMaps and Secrets a pod refers to from the API (kubelet's configmap and secret
/// managers, in their "Get" strategy: a GET per object when the pod needs them). Immutable
/// objects are kept once read and never read again, as kubelet's watch-based manager does.
struct PodConfigSource: Sendable {
    let api: (any PodAPI)?
    let namespace: String

    /// The objects of `references`; a missing one is simply absent from the result. Other API
    /// errors are thrown (the caller retries). `known` holds what was read before: its
    /// immutable objects are reused.
    func read(_ references: PodConfigReferences, known: PodConfigObjects) async throws -> PodConfigObjects {
        guard let api else { return .none }
        var objects = PodConfigObjects()
        for name in references.configMaps.sorted() {
            if let cached = known.configMaps[name], cached.immutable {
                objects.configMaps[name] = cached
                continue
            }
            do {
                objects.configMaps[name] = try await api.getConfigMap(namespace: namespace, name: name)
            } catch PodAPIError.notFound {
                continue
            }
        }
        for name in references.secrets.sorted() {
            if let cached = known.secrets[name], cached.immutable {
                objects.secrets[name] = cached
                continue
            }
            do {
                objects.secrets[name] = try await api.getSecret(namespace: namespace, name: name)
            } catch PodAPIError.notFound {
                continue
            }
        }
        return objects
    }
}
