import Foundation

/// Imports a `docker save` archive (extracted): `manifest.json` lists, per image, the config
/// file, the `RepoTags` and the layer tars (uncompressed in classic archives, possibly gzip).
/// Docker archives carry no distribution manifest, so an OCI manifest is synthesized for each
/// image, as containerd does when it imports them.
/// See https://github.com/moby/moby/blob/master/image/spec/v1.2.md#combined-image-json--filesystem-changeset-format
struct DockerArchiveImporter {
    let source: ImportSource
    let blobs: BlobStore
    let platform: HostPlatform
    let name: String?

    private struct Entry: Decodable {
        var config: String
        var repoTags: [String]?
        var layers: [String]

        enum CodingKeys: String, CodingKey {
            case config = "Config"
            case repoTags = "RepoTags"
            case layers = "Layers"
        }
    }

    func run() throws -> [ImportedImage] {
        let entries = try source.readJSON("manifest.json", as: [Entry].self)
        var imported: [ImportedImage] = []
        var otherPlatforms: [String] = []
        // Entries share layer files; from an extracted archive they are moved into the store
        // on first use, so later uses must not look for them again.
        var ingested: [String: (digest: Digest, size: Int64, added: Bool)] = [:]
        for entry in entries {
            let configLabel = "config \(entry.config) in \(source.origin)"
            let config = try ingested[entry.config]
                ?? blobs.ingest(file: try source.file(entry.config), expected: nil, what: configLabel, move: source.confined)
            ingested[entry.config] = config
            // Docker names the config after its digest (`<hex>.json` or `blobs/sha256/<hex>`).
            let stem = (entry.config as NSString).lastPathComponent.replacingOccurrences(of: ".json", with: "")
            if let named = try? Digest(hex: stem), named != config.digest {
                if config.added { try? blobs.remove(config.digest) }
                throw ImageError.digestMismatch(what: configLabel, expected: named, actual: config.digest)
            }
            let configFile: OCIImageConfigFile
            do {
                configFile = try JSONDecoder().decode(
                    OCIImageConfigFile.self, from: Data(blobs.read(config.digest, what: "config")))
            } catch let error as ImageError {
                throw error
            } catch {
                throw ImageError.invalidArchive(path: source.origin, reason: "\(entry.config) is not valid: \(error)")
            }
            guard ImageIngest.configMatches(configFile, platform) else {
                otherPlatforms.append("\(configFile.os ?? "?")/\(configFile.architecture ?? "?")")
                continue
            }
            guard configFile.rootfs.diffIDs.count == entry.layers.count else {
                throw ImageError.invalidArchive(
                    path: source.origin,
                    reason: "\(entry.config) lists \(configFile.rootfs.diffIDs.count) diff_ids but manifest.json \(entry.layers.count) layers")
            }
            var layers: [OCIDescriptor] = []
            for (layerPath, diffID) in zip(entry.layers, configFile.rootfs.diffIDs) {
                layers.append(try ingestLayer(layerPath, diffID: diffID, ingested: &ingested))
            }
            let manifest = OCIManifest(
                schemaVersion: 2, mediaType: MediaType.ociManifest,
                config: OCIDescriptor(mediaType: MediaType.ociConfig, digest: config.digest, size: config.size),
                layers: layers, annotations: nil)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let manifestDigest = try blobs.ingest(bytes: Array(try encoder.encode(manifest)))
            imported.append(ImportedImage(
                manifest: manifestDigest, names: try ImageNaming.names(repoTags: entry.repoTags ?? [], override: name)))
        }
        if imported.isEmpty {
            throw ImageError.noMatchingPlatform(
                wanted: platform.description, available: Array(Set(otherPlatforms)).sorted(), source: source.origin)
        }
        return imported
    }

    /// Stores one layer tar as a blob and describes it; the media type follows the content.
    private func ingestLayer(
        _ relative: String, diffID: Digest, ingested: inout [String: (digest: Digest, size: Int64, added: Bool)]
    ) throws -> OCIDescriptor {
        let label = "layer \(relative) in \(source.origin)"
        let blob: (digest: Digest, size: Int64, added: Bool)
        if let known = ingested[relative] {
            blob = (known.digest, known.size, false)
        } else {
            blob = try blobs.ingest(file: try source.file(relative), expected: nil, what: label, move: source.confined)
            ingested[relative] = blob
        }
        let magic = try FileSource(path: blobs.path(blob.digest)).peek(4)
        let mediaType: String
        if magic.starts(with: [0x1f, 0x8b]) {
            mediaType = MediaType.ociLayerGzip
        } else if magic == [0x28, 0xb5, 0x2f, 0xfd] {
            if blob.added { try? blobs.remove(blob.digest) }
            throw ImageError.unsupportedMediaType("zstd-compressed \(relative) in \(source.origin)", context: "layer")
        } else {
            mediaType = MediaType.ociLayer
        }
        if mediaType == MediaType.ociLayer {
            // An uncompressed layer's digest is its diff ID.
            guard blob.digest == diffID else {
                if blob.added { try? blobs.remove(blob.digest) }
                throw ImageError.digestMismatch(what: "\(label) (against the config's diff_ids)", expected: diffID, actual: blob.digest)
            }
        } else if blob.added {
            do {
                try ImageIngest.verifyDiffID(layerAt: blobs.path(blob.digest), diffID: diffID, what: label)
            } catch {
                try? blobs.remove(blob.digest)
                throw error
            }
        }
        return OCIDescriptor(mediaType: mediaType, digest: blob.digest, size: blob.size)
    }
}
