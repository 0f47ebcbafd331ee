import Foundation

/// Imports the images of an OCI image layout (a directory, or an extracted OCI archive).
///
/// Each entry of `index.json` is an image; an entry that is itself an index (multi-platform
/// image) is followed, through nested indexes, to the manifest for this machine's platform.
/// Blobs are copied into the store with their digests and sizes verified, and the layers'
/// uncompressed digests checked against the config's `diff_ids`.
/// See https://github.com/opencontainers/image-spec/blob/main/image-layout.md
struct OCILayoutImporter {
    let source: ImportSource
    let blobs: BlobStore
    let platform: HostPlatform
    let name: String?

    /// Deepest index nesting followed (real images use one level; this bounds malicious input).
    private static let maxDepth = 4

    func run() throws -> [ImportedImage] {
        let index = try source.readJSON("index.json", as: OCIIndex.self)
        var imported: [ImportedImage] = []
        var otherPlatforms: [String] = []
        for entry in index.manifests {
            guard let manifest = try select(entry, depth: 0, otherPlatforms: &otherPlatforms) else { continue }
            guard let digest = try ingest(manifest, otherPlatforms: &otherPlatforms) else { continue }
            let names = try ImageNaming.names(annotations: entry.annotations, override: name, origin: source.origin)
            imported.append(ImportedImage(manifest: digest, names: names))
        }
        if imported.isEmpty {
            throw ImageError.noMatchingPlatform(
                wanted: platform.description, available: Array(Set(otherPlatforms)).sorted(), source: source.origin)
        }
        return imported
    }

    /// The manifest for this platform reachable from `descriptor`, or nil (recording the
    /// platforms seen instead).
    private func select(_ descriptor: OCIDescriptor, depth: Int, otherPlatforms: inout [String]) throws -> OCIDescriptor? {
        let type = descriptor.mediaType.isEmpty ? try sniff(descriptor) : descriptor.mediaType
        if MediaType.isManifest(type) {
            if let declared = descriptor.platform, !platform.matches(declared) {
                otherPlatforms.append(declared.description)
                return nil
            }
            return descriptor
        }
        guard MediaType.isIndex(type) else {
            throw ImageError.unsupportedMediaType(type, context: "manifest (in \(source.origin))")
        }
        guard depth < OCILayoutImporter.maxDepth else {
            throw ImageError.invalidArchive(path: source.origin, reason: "image indexes nested deeper than \(OCILayoutImporter.maxDepth) levels")
        }
        let nested = try decode(OCIIndex.self, descriptor, what: "image index")
        for child in nested.manifests {
            if let found = try select(child, depth: depth + 1, otherPlatforms: &otherPlatforms) { return found }
        }
        return nil
    }

    /// Copies one image's blobs into the store; returns its manifest digest, or nil when its
    /// config says it is for another platform.
    private func ingest(_ descriptor: OCIDescriptor, otherPlatforms: inout [String]) throws -> Digest? {
        let manifestBytes = try readBlob(descriptor, what: "manifest")
        let manifest: OCIManifest
        do {
            manifest = try JSONDecoder().decode(OCIManifest.self, from: Data(manifestBytes))
        } catch {
            throw ImageError.invalidArchive(path: source.origin, reason: "manifest \(descriptor.digest) is not valid: \(error)")
        }
        try ImageIngest.checkMediaTypes(manifest, origin: source.origin)

        let configDescriptor = manifest.config
        try ingestBlob(configDescriptor, kind: "config")
        let config: OCIImageConfigFile
        do {
            config = try JSONDecoder().decode(
                OCIImageConfigFile.self, from: Data(blobs.read(configDescriptor.digest, what: "config")))
        } catch let error as ImageError {
            throw error
        } catch {
            throw ImageError.invalidArchive(path: source.origin, reason: "config \(configDescriptor.digest) is not valid: \(error)")
        }
        guard ImageIngest.configMatches(config, platform) else {
            otherPlatforms.append("\(config.os ?? "?")/\(config.architecture ?? "?")")
            return nil
        }
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw ImageError.invalidArchive(
                path: source.origin,
                reason: "manifest \(descriptor.digest) has \(manifest.layers.count) layers but its config lists \(config.rootfs.diffIDs.count) diff_ids")
        }
        for (layer, diffID) in zip(manifest.layers, config.rootfs.diffIDs) {
            // A blob already in the store was verified when it arrived; a mismatching claim
            // about it is still caught when the layer is unpacked.
            guard try ingestBlob(layer, kind: "layer") else { continue }
            do {
                try ImageIngest.verifyDiffID(layerAt: blobs.path(layer.digest), diffID: diffID,
                                             what: what("layer", layer.digest))
            } catch {
                try? blobs.remove(layer.digest)
                throw error
            }
        }
        // The manifest goes in last, once everything it points to is present.
        return try blobs.ingest(bytes: manifestBytes)
    }

    /// Copies (or, from an extracted archive, moves) a blob into the store unless it is there
    /// already; returns whether it was added.
    @discardableResult
    private func ingestBlob(_ descriptor: OCIDescriptor, kind: String) throws -> Bool {
        if blobs.contains(descriptor.digest) { return false }
        return try blobs.ingest(file: try blobPath(descriptor.digest), expected: descriptor.digest,
                                expectedSize: descriptor.size, what: what(kind, descriptor.digest),
                                move: source.confined).added
    }

    private func what(_ kind: String, _ digest: Digest) -> String {
        "\(kind) blobs/sha256/\(digest.hex) in \(source.origin)"
    }

    private func blobPath(_ digest: Digest) throws -> String {
        try source.file("blobs/sha256/" + digest.hex)
    }

    private func readBlob(_ descriptor: OCIDescriptor, what kind: String) throws -> [UInt8] {
        let bytes = try BlobStore.readVerified(try blobPath(descriptor.digest), digest: descriptor.digest,
                                               what: what(kind, descriptor.digest))
        guard Int64(bytes.count) == descriptor.size else {
            throw ImageError.invalidArchive(
                path: source.origin,
                reason: "\(what(kind, descriptor.digest)) has \(bytes.count) bytes but its descriptor says \(descriptor.size)")
        }
        return bytes
    }

    private func decode<T: Decodable>(_ type: T.Type, _ descriptor: OCIDescriptor, what kind: String) throws -> T {
        let bytes = try readBlob(descriptor, what: kind)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw ImageError.invalidArchive(path: source.origin, reason: "\(kind) \(descriptor.digest) is not valid: \(error)")
        }
    }

    /// Early layouts leave out media types in index.json; the blob's own fields tell.
    private func sniff(_ descriptor: OCIDescriptor) throws -> String {
        struct Probe: Decodable {
            var mediaType: String?
            var manifests: [OCIDescriptor]?
        }
        let probe = try decode(Probe.self, descriptor, what: "manifest")
        if let type = probe.mediaType { return type }
        return probe.manifests == nil ? MediaType.ociManifest : MediaType.ociIndex
    }
}
