/// An image manifest (OCI or Docker v2 schema 2): a config blob and the layers bottom→top.
/// See https://github.com/opencontainers/image-spec/blob/main/manifest.md
struct OCIManifest: Codable, Sendable {
    var schemaVersion: Int
    var mediaType: String?
    var config: OCIDescriptor
    var layers: [OCIDescriptor]
    var annotations: [String: String]?
}

/// An image index (OCI) or manifest list (Docker): manifests per platform, possibly nested.
/// See https://github.com/opencontainers/image-spec/blob/main/image-index.md
struct OCIIndex: Codable, Sendable {
    var schemaVersion: Int
    var mediaType: String?
    var manifests: [OCIDescriptor]
    var annotations: [String: String]?
}
