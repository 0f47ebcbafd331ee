import Foundation
import KubeAPI

/// The data of one ConfigMap (`data` and `binaryData` together) or Secret, as the agent read it.
public struct ConfigObject: Sendable, Equatable {
    public var data: [String: Data]
    /// `immutable: true`: its data can never change, so it need not be read again.
    public var immutable: Bool

    public init(data: [String: Data], immutable: Bool = false) {
        self.data = data
        self.immutable = immutable
    }
}

/// The ConfigMaps and Secrets of the pod's namespace that its volumes and environment refer to,
/// as read from the API server. A name missing from a dictionary was not found.
public struct PodConfigObjects: Sendable, Equatable {
    public var configMaps: [String: ConfigObject]
    public var secrets: [String: ConfigObject]
    /// Service account tokens of projected volumes, by `tokenKey(volume:source:)`.
    public var serviceAccountTokens: [String: String] = [:]
    /// The pod's `persistentVolumeClaim` volumes, by pod volume name, once their claims are bound.
    public var claimVolumes: [String: ClaimVolume] = [:]
    /// False until read from the API server, and always for static pods, which cannot use
    /// ConfigMaps or Secrets.
    public var fromAPIServer: Bool

    public init(configMaps: [String: ConfigObject] = [:], secrets: [String: ConfigObject] = [:], fromAPIServer: Bool = true) {
        self.configMaps = configMaps
        self.secrets = secrets
        self.fromAPIServer = fromAPIServer
    }

    /// No API server: every reference to a ConfigMap or Secret is refused.
    public static let none = PodConfigObjects(fromAPIServer: false)

    /// The key of the token of source number `source` of projected volume `volume`.
    public static func tokenKey(volume: String, source: Int) -> String { "\(volume)/\(source)" }
}

/// A `serviceAccountToken` source of a pod's projected volume: what the agent asks the API
/// server for (kubelet's token manager).
public struct ServiceAccountTokenSource: Sendable, Equatable {
    /// `PodConfigObjects.tokenKey`.
    public var key: String
    public var audiences: [String]
    public var expirationSeconds: Int64

    public init(key: String, audiences: [String], expirationSeconds: Int64) {
        self.key = key
        self.audiences = audiences
        self.expirationSeconds = expirationSeconds
    }

    /// kubelet asks for the source's `expirationSeconds`, else one hour (the API's default);
    /// the ServiceAccount admission plugin sets 3607.
    public static let defaultExpirationSeconds: Int64 = 3600

    /// The token sources of the pod's projected volumes.
    public static func all(in pod: Pod) -> [ServiceAccountTokenSource] {
        var sources: [ServiceAccountTokenSource] = []
        for volume in pod.spec.volumes ?? [] where volume.projected != nil {
            for (index, projection) in ((try? volume.decodedProjected())??.sources ?? []).enumerated() {
                guard let token = projection.serviceAccountToken else { continue }
                sources.append(ServiceAccountTokenSource(
                    key: PodConfigObjects.tokenKey(volume: volume.name, source: index),
                    audiences: (token.audience ?? "").isEmpty ? [] : [token.audience ?? ""],
                    expirationSeconds: token.expirationSeconds ?? defaultExpirationSeconds))
            }
        }
        return sources
    }
}

/// Which ConfigMaps and Secrets a pod refers to (volumes, projected sources, env, envFrom), the
/// names kubelet's configmap and secret managers register for the pod.
public struct PodConfigReferences: Sendable, Equatable {
    public var configMaps: Set<String> = []
    public var secrets: Set<String> = []

    public init(configMaps: Set<String> = [], secrets: Set<String> = []) {
        self.configMaps = configMaps
        self.secrets = secrets
    }

    public var isEmpty: Bool { configMaps.isEmpty && secrets.isEmpty }

    /// Those of the pod's volumes.
    public static func volumes(of pod: Pod) -> PodConfigReferences {
        var references = PodConfigReferences()
        for volume in pod.spec.volumes ?? [] {
            if let name = volume.configMap?.name, !name.isEmpty { references.configMaps.insert(name) }
            if let name = volume.secret?.secretName, !name.isEmpty { references.secrets.insert(name) }
            for source in (try? volume.decodedProjected())??.sources ?? [] {
                if let name = source.configMap?.name, !name.isEmpty { references.configMaps.insert(name) }
                if let name = source.secret?.name, !name.isEmpty { references.secrets.insert(name) }
            }
        }
        return references
    }

    /// Those of one container's `env` and `envFrom`.
    public static func environment(of container: Container) -> PodConfigReferences {
        var references = PodConfigReferences()
        for variable in container.env ?? [] {
            if let name = variable.valueFrom?.configMapKeyRef?.name, !name.isEmpty { references.configMaps.insert(name) }
            if let name = variable.valueFrom?.secretKeyRef?.name, !name.isEmpty { references.secrets.insert(name) }
        }
        for source in container.envFrom ?? [] {
            if let name = source.configMapRef?.name, !name.isEmpty { references.configMaps.insert(name) }
            if let name = source.secretRef?.name, !name.isEmpty { references.secrets.insert(name) }
        }
        return references
    }

    /// Whether a volume's content comes from API objects that can change (ConfigMaps, Secrets).
    public static func isAPIVolume(_ volume: Volume) -> Bool {
        volume.configMap != nil || volume.secret != nil || volume.downwardAPI != nil || volume.projected != nil
    }
}

/// A ConfigMap, Secret or key the pod needs is missing, or cannot be used: kubelet's messages.
public struct ConfigSourceError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
