/// The OCI and Docker v2 media types the store understands, and what each means for import.
/// See https://github.com/opencontainers/image-spec/blob/main/media-types.md and
/// https://distribution.github.io/distribution/spec/manifest-v2-2/
package enum MediaType {
    package static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    package static let ociIndex = "application/vnd.oci.image.index.v1+json"
    package static let ociConfig = "application/vnd.oci.image.config.v1+json"
    package static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    package static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    package static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    package static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    package static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    package static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    package static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    package static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    /// How a layer blob is compressed.
    package enum Compression: Sendable { case none, gzip, zstd }

    package static func isManifest(_ type: String) -> Bool { type == ociManifest || type == dockerManifest }
    package static func isIndex(_ type: String) -> Bool { type == ociIndex || type == dockerManifestList }

    /// The compression of a layer media type, or an error for unknown types.
    /// Nondistributable and foreign layers are plain layers whose blobs may live elsewhere;
    /// when they are present in the archive they unpack the same way.
    package static func layerCompression(_ type: String) throws -> Compression {
        switch type {
        case ociLayer, dockerLayer, "application/vnd.oci.image.layer.nondistributable.v1.tar":
            return .none
        case ociLayerGzip, dockerLayerGzip, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
            return .gzip
        case ociLayerZstd, "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
            return .zstd
        default:
            throw ImageError.unsupportedMediaType(type, context: "layer")
        }
    }
}
