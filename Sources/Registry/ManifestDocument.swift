import Foundation
import Images

/// A fetched manifest document read for what a pull needs: an index (OCI image index or
/// Docker manifest list) to choose a platform from, or an image manifest (OCI or Docker
/// schema 2) with its config and layers. Pure: no I/O, so every rule is tested on its own.
enum ManifestDocument {
    case index([OCIDescriptor])
    case image(OCIManifest)

    /// Reads `bytes` of `mediaType` (the document's own `mediaType`, else the Content-Type; a
    /// document with neither is told by its fields). `source` names it in errors.
    static func parse(_ bytes: [UInt8], mediaType: String, source: String) throws -> ManifestDocument {
        var type = mediaType
        if type.isEmpty || type == "application/json" || type == "text/plain" {
            struct Probe: Decodable {
                var manifests: [OCIDescriptor]?
                var layers: [OCIDescriptor]?
                var schemaVersion: Int?
            }
            let probe = try? JSONDecoder().decode(Probe.self, from: Data(bytes))
            if probe?.manifests != nil {
                type = MediaType.ociIndex
            } else if probe?.layers != nil {
                type = MediaType.ociManifest
            } else if probe?.schemaVersion == 1 {
                type = "application/vnd.docker.distribution.manifest.v1+json"
            }
        }
        if type.hasPrefix("application/vnd.docker.distribution.manifest.v1") {
            throw RegistryError(.unsupported, "\(source) is a Docker schema 1 manifest (\(type)); it is deprecated and not supported: push the image again with a current Docker, skopeo or buildah")
        }
        do {
            if MediaType.isIndex(type) {
                let index = try JSONDecoder().decode(OCIIndex.self, from: Data(bytes))
                return .index(index.manifests)
            }
            if MediaType.isManifest(type) {
                let manifest = try JSONDecoder().decode(OCIManifest.self, from: Data(bytes))
                try check(manifest, source: source)
                return .image(manifest)
            }
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError(.invalidContent, "\(source) is not a valid \(type): \(error)")
        }
        throw RegistryError(.unsupported, "\(source) has the unsupported media type \"\(type)\" (not an image manifest or index)")
    }

    /// A manifest swiftlet can run: a container image config and layers of known types.
    static func check(_ manifest: OCIManifest, source: String) throws {
        let config = manifest.config.mediaType
        guard config == MediaType.ociConfig || config == MediaType.dockerConfig else {
            throw RegistryError(.unsupported, "\(source) is not a container image (config media type \"\(config)\"; a Helm chart or another OCI artifact?)")
        }
        guard manifest.layers.count <= maxLayers else {
            throw RegistryError(.unsupported, "\(source) has \(manifest.layers.count) layers; at most \(maxLayers) are supported")
        }
        for layer in manifest.layers {
            do {
                _ = try MediaType.layerCompression(layer.mediaType)
            } catch {
                throw RegistryError(.unsupported, "\(source): unsupported layer media type \"\(layer.mediaType)\"")
            }
            guard layer.size >= 0 else { throw RegistryError(.invalidContent, "\(source): layer \(layer.digest) has a negative size") }
        }
    }

    /// More layers than overlayfs can stack in one mount option page is refused up front.
    static let maxLayers = 127

    /// The entry of an index for `platform`, as containerd's default platform matcher picks it:
    /// same OS and architecture (a variant, where given, is accepted: amd64 variants are
    /// compatible levels), entries of the image's own platform before attestations and other
    /// artifacts (`unknown/unknown`), the first in document order among equals.
    static func select(_ manifests: [OCIDescriptor], for platform: HostPlatform, source: String) throws -> OCIDescriptor {
        let candidates = manifests.filter { entry in
            guard let declared = entry.platform else { return false }
            return declared.os == platform.os && declared.architecture == platform.architecture
                && (MediaType.isManifest(entry.mediaType) || MediaType.isIndex(entry.mediaType) || entry.mediaType.isEmpty)
        }
        // Without any platform fields, a single manifest is taken (some tools write none).
        if candidates.isEmpty, manifests.count == 1, manifests[0].platform == nil { return manifests[0] }
        if let best = candidates.first(where: { $0.platform?.variant == nil }) ?? candidates.first { return best }
        let available = manifests.compactMap { $0.platform?.description }.filter { !$0.hasPrefix("unknown") }
        throw RegistryError(.unsupported, "no match for platform in manifest \(source): not found (this node is \(platform.description); the image has \(available.isEmpty ? "no platforms listed" : Array(Set(available)).sorted().joined(separator: ", ")))")
    }
}
