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
        objects.configMaps = try await read(references.configMaps, known: known.configMaps) {
            try await api.getConfigMap(namespace: namespace, name: $0)
        }
        objects.secrets = try await read(references.secrets, known: known.secrets) {
            try await api.getSecret(namespace: namespace, name: $0)
        }
        return objects
    }

    /// One kind's objects by name: the immutable ones known already, the others fetched.
    private func read(_ names: Set<String>, known: [String: ConfigObject],
                      fetch: (String) async throws -> ConfigObject) async throws -> [String: ConfigObject] {
        var objects: [String: ConfigObject] = [:]
        for name in names.sorted() {
            if let cached = known[name], cached.immutable {
                objects[name] = cached
                continue
            }
            do {
                objects[name] = try await fetch(name)
            } catch PodAPIError.notFound {
                continue
            }
        }
        return objects
    }
}
