/// The OCI and Docker v2 media types the store understands, and what each means for import.
/// See https://github.com/opencontainers/image-spec/blob/main/media-types.md and
/// https://distribution.github.io/distribution/spec/manifest-v2-2/
enum MediaType {
    static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    static let ociIndex = "application/vnd.oci.image.index.v1+json"
    static let ociConfig = "application/vnd.oci.image.config.v1+json"
    static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    /// How a layer blob is compressed.
    enum Compression: Sendable { case none, gzip }

    static func isManifest(_ type: String) -> Bool { type == ociManifest || type == dockerManifest }
    static func isIndex(_ type: String) -> Bool { type == ociIndex || type == dockerManifestList }

    /// The compression of a layer media type, or an error for zstd and unknown types.
    /// Nondistributable and foreign layers are plain layers whose blobs may live elsewhere;
    /// when they are present in the archive they unpack the same way.
    static func layerCompression(_ type: String) throws -> Compression {
        switch type {
        case ociLayer, dockerLayer, "application/vnd.oci.image.layer.nondistributable.v1.tar":
            return .none
        case ociLayerGzip, dockerLayerGzip, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
            return .gzip
        default:
            throw ImageError.unsupportedMediaType(type, context: "layer")
        }
    }
}
