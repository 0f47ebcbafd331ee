/// An image manifest (OCI or Docker v2 schema 2): a config blob and the layers bottom→top.
/// See https://github.com/opencontainers/image-spec/blob/main/manifest.md
package struct OCIManifest: Codable, Sendable {
    package var schemaVersion: Int
    package var mediaType: String?
    package var config: OCIDescriptor
    package var layers: [OCIDescriptor]
    package var annotations: [String: String]?
}

/// An image index (OCI) or manifest list (Docker): manifests per platform, possibly nested.
/// See https://github.com/opencontainers/image-spec/blob/main/image-index.md
package struct OCIIndex: Codable, Sendable {
    package var schemaVersion: Int
    package var mediaType: String?
    package var manifests: [OCIDescriptor]
    package var annotations: [String: String]?
}
