/// Checks shared by the importers: media types an image may use, and diff IDs.
enum ImageIngest {
    /// Refuses manifests whose config or layers the store cannot use, before copying blobs.
    static func checkMediaTypes(_ manifest: OCIManifest, origin: String) throws {
        let config = manifest.config.mediaType
        guard config == MediaType.ociConfig || config == MediaType.dockerConfig else {
            throw ImageError.unsupportedMediaType(config, context: "image config (in \(origin); not a container image?)")
        }
        for layer in manifest.layers {
            _ = try MediaType.layerCompression(layer.mediaType)
        }
    }

    /// Decompresses the layer blob at `path` and checks the result hashes to `diffID`
    /// (the config's `rootfs.diff_ids` entry), which is what layer directories are named by.
    static func verifyDiffID(layerAt path: String, diffID: Digest, what: String) throws {
        let source = DigestingSource(try LayerUnpacker.openUncompressed(path))
        try source.drain()
        let actual = source.finalize()
        guard actual == diffID else {
            throw ImageError.digestMismatch(what: "\(what) (uncompressed, against the config's diff_ids)",
                                            expected: diffID, actual: actual)
        }
    }

    /// Whether a config's os/architecture can run here; images that do not say are accepted.
    static func configMatches(_ config: OCIImageConfigFile, _ platform: HostPlatform) -> Bool {
        (config.os ?? platform.os) == platform.os && (config.architecture ?? platform.architecture) == platform.architecture
    }
}

/// One image an importer brought into the blob store.
struct ImportedImage: Sendable, Equatable {
    var manifest: Digest
    var names: [String]
}
