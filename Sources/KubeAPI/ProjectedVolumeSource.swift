import Foundation

/// Typed views of the `downwardAPI` and `projected` volume sources, which `Volume` keeps as
/// JSON (the server only round-trips them). The agent decodes them when it writes the volume.

/// Pod fields and container resources as files.
public struct DownwardAPIVolumeSource: Codable, Hashable, Sendable {
    public var items: [DownwardAPIVolumeFile]?
    public var defaultMode: Int32?

    public init(items: [DownwardAPIVolumeFile]? = nil, defaultMode: Int32? = nil) {
        self.items = items
        self.defaultMode = defaultMode
    }
}

/// One downward API file: a pod field or a container resource at a relative path.
public struct DownwardAPIVolumeFile: Codable, Hashable, Sendable {
    public var path: String
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?
    public var mode: Int32?

    public init(path: String, fieldRef: ObjectFieldSelector? = nil, resourceFieldRef: ResourceFieldSelector? = nil,
                mode: Int32? = nil) {
        self.path = path
        self.fieldRef = fieldRef
        self.resourceFieldRef = resourceFieldRef
        self.mode = mode
    }
}

/// Several sources in one directory.
public struct ProjectedVolumeSource: Codable, Hashable, Sendable {
    public var sources: [VolumeProjection]?
    public var defaultMode: Int32?

    public init(sources: [VolumeProjection]? = nil, defaultMode: Int32? = nil) {
        self.sources = sources
        self.defaultMode = defaultMode
    }
}

/// One source of a projected volume (exactly one field set).
public struct VolumeProjection: Codable, Hashable, Sendable {
    public var configMap: ConfigMapProjection?
    public var secret: SecretProjection?
    public var downwardAPI: DownwardAPIProjection?
    public var serviceAccountToken: ServiceAccountTokenProjection?
    public var clusterTrustBundle: JSONValue?
    public var podCertificate: JSONValue?

    public init(configMap: ConfigMapProjection? = nil, secret: SecretProjection? = nil,
                downwardAPI: DownwardAPIProjection? = nil, serviceAccountToken: ServiceAccountTokenProjection? = nil,
                clusterTrustBundle: JSONValue? = nil, podCertificate: JSONValue? = nil) {
        self.configMap = configMap
        self.secret = secret
        self.downwardAPI = downwardAPI
        self.serviceAccountToken = serviceAccountToken
        self.clusterTrustBundle = clusterTrustBundle
        self.podCertificate = podCertificate
    }
}

/// A ConfigMap's or a Secret's keys inside a projected volume: upstream's ConfigMapProjection
/// and SecretProjection have the same fields (name, items, optional), so one type serves both.
public struct KeysProjection: Codable, Hashable, Sendable {
    public var name: String?
    public var items: [KeyToPath]?
    public var optional: Bool?

    public init(name: String? = nil, items: [KeyToPath]? = nil, optional: Bool? = nil) {
        self.name = name
        self.items = items
        self.optional = optional
    }
}

public typealias ConfigMapProjection = KeysProjection
public typealias SecretProjection = KeysProjection

/// Downward API files inside a projected volume.
public struct DownwardAPIProjection: Codable, Hashable, Sendable {
    public var items: [DownwardAPIVolumeFile]?

    public init(items: [DownwardAPIVolumeFile]? = nil) {
        self.items = items
    }
}

/// A bound service account token inside a projected volume.
public struct ServiceAccountTokenProjection: Codable, Hashable, Sendable {
    public var audience: String?
    public var expirationSeconds: Int64?
    public var path: String

    public init(audience: String? = nil, expirationSeconds: Int64? = nil, path: String) {
        self.audience = audience
        self.expirationSeconds = expirationSeconds
        self.path = path
    }
}

extension Volume {
    /// The `downwardAPI` source, decoded; nil when the volume has none.
    public func decodedDownwardAPI() throws -> DownwardAPIVolumeSource? {
        try downwardAPI.map { try JSONDecoder().decode(DownwardAPIVolumeSource.self, from: JSONEncoder().encode($0)) }
    }

    /// The `projected` source, decoded; nil when the volume has none.
    public func decodedProjected() throws -> ProjectedVolumeSource? {
        try projected.map { try JSONDecoder().decode(ProjectedVolumeSource.self, from: JSONEncoder().encode($0)) }
    }
}
