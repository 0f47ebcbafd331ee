import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The node's local image store: content-addressed blobs, unpacked layers and the names
/// pointing at images.
///
/// Layout under `root` (e.g. `/var/lib/swiftlet/agent/images`):
///
///     blobs/sha256/<hex>        manifests, configs and compressed layers, named by digest
///     layers/<diffID hex>/      unpacked layers in overlayfs form, ready to be lowerdirs
///     index.json                normalized reference → manifest digest (atomic rename)
///     lock                      flock: exclusive to import/remove, shared to unpack
///     tmp/                      blobs and archives being imported or pulled
///     leases/                   what pulls in progress hold (see `StoreLease`)
///
/// Safe to use from several threads and several processes at once: the class holds no
/// mutable state, and everything shared on disk is guarded by the lock or written by rename.
public final class ImageStore: Sendable {
    /// The directory the store lives in.
    public let root: String
    let blobs: BlobStore
    let platform: HostPlatform

    var indexPath: String { root + "/index.json" }
    var lockPath: String { root + "/lock" }
    var layersDirectory: String { root + "/layers" }
    var leasesDirectory: String { root + "/leases" }

    /// Opens (creating if needed) the store at `root`.
    public init(root: String) throws {
        self.root = root
        blobs = BlobStore(root: root)
        platform = HostPlatform.current
        for directory in [root, blobs.directory, layersDirectory, blobs.temporaryDirectory, leasesDirectory] {
            try FileTree.createDirectories(directory)
        }
    }

    /// Every image in the store, ordered by first reference (unnamed images last, by ID).
    public func list() throws -> [Image] {
        try FileLock.withLock(lockPath, exclusive: false) {
            let index = try StoreIndex.load(from: indexPath)
            return try index.manifests.map { try loadImage($0, index: index) }.sorted(by: ImageStore.listOrder)
        }
    }

    /// Finds an image the way kubelet names them: a reference, normalized as containerd's CRI
    /// plugin does (`busybox` → `docker.io/library/busybox:latest`), `name@sha256:…` by
    /// manifest digest, or an image ID (`sha256:…`, 64 hex, or a unique prefix of at least
    /// one hex digit, as `crictl` and `docker` accept).
    public func resolve(_ reference: String) throws -> Image {
        try FileLock.withLock(lockPath, exclusive: false) {
            let index = try StoreIndex.load(from: indexPath)
            return try loadImage(try locate(reference, in: index).manifest, index: index)
        }
    }

    /// Removes a name. Given a tag reference only that tag goes (like `docker rmi name:tag`);
    /// given an ID or digest the whole image goes with all its names. Blobs and unpacked
    /// layers no longer used by any image are deleted.
    ///
    /// The caller must make sure no container still uses the image's layers.
    public func remove(_ reference: String) throws {
        try FileLock.withLock(lockPath, exclusive: true) {
            var index = try StoreIndex.load(from: indexPath)
            switch try locate(reference, in: index) {
            case .reference(let name, _):
                index.references[name] = nil
            case .image(let manifest):
                index.references = index.references.filter { $0.value != manifest }
                index.untagged.removeAll { $0 == manifest }
            }
            try index.save(to: indexPath)
            try collectGarbage(keeping: index)
        }
    }

    // MARK: - Lookup

    /// How a user's string matched.
    enum Located {
        /// A tag reference in the index (removing it removes just that name).
        case reference(String, manifest: Digest)
        /// An image by ID, digest or ID prefix.
        case image(manifest: Digest)

        var manifest: Digest {
            switch self {
            case .reference(_, let manifest), .image(let manifest): return manifest
            }
        }
    }

    func locate(_ input: String, in index: StoreIndex) throws -> Located {
        let manifests = index.manifests
        // A full digest or bare 64-hex ID: the image ID (config digest) or a manifest digest.
        if let digest = (try? Digest(parsing: input)) ?? (try? Digest(hex: input)) {
            if manifests.contains(digest) { return .image(manifest: digest) }
            for manifest in manifests where try configDigest(of: manifest) == digest {
                return .image(manifest: manifest)
            }
            throw ImageError.notFound(input)
        }
        var normalized = input
        if let reference = try? ImageReference(parsing: input) {
            normalized = reference.normalized
            if reference.digest != nil, let manifest = index.references[normalized] {
                // A repo digest a pull recorded: name@<digest the tag pointed to>, which for a
                // multi-platform image is the index's digest, not the platform manifest's.
                return .image(manifest: manifest)
            }
            if let digest = reference.digest {
                // name@digest: the image with that manifest, if it is known under that name.
                let named = index.references(to: digest).contains {
                    (try? ImageReference(parsing: $0))?.name == reference.name
                }
                if named { return .image(manifest: digest) }
            } else if let manifest = index.references[normalized] {
                return .reference(normalized, manifest: manifest)
            }
        }
        // A short image ID, as `docker images` and `crictl images` print them.
        let prefix = input.hasPrefix("sha256:") ? String(input.dropFirst(7)) : input
        if !prefix.isEmpty, prefix.utf8.allSatisfy(Digest.isLowerHex) {
            var matches: [Digest: Digest] = [:]  // image ID → manifest
            for manifest in manifests {
                let id = try configDigest(of: manifest)
                if id.hex.hasPrefix(prefix) { matches[id] = manifest }
            }
            if matches.count == 1, let manifest = matches.first?.value { return .image(manifest: manifest) }
            if matches.count > 1 {
                throw ImageError.ambiguous(input, matches: matches.keys.sorted().map(\.shortID))
            }
        }
        throw ImageError.notFound(normalized)
    }

    // MARK: - Reading images

    func manifest(_ digest: Digest) throws -> OCIManifest {
        try decodeBlob(OCIManifest.self, digest, what: "manifest")
    }

    func configFile(_ digest: Digest) throws -> OCIImageConfigFile {
        try decodeBlob(OCIImageConfigFile.self, digest, what: "config")
    }

    func configDigest(of manifest: Digest) throws -> Digest {
        try self.manifest(manifest).config.digest
    }

    func loadImage(_ manifestDigest: Digest, index: StoreIndex) throws -> Image {
        let manifest = try self.manifest(manifestDigest)
        let config = try configFile(manifest.config.digest)
        let manifestSize = try blobs.size(of: blobs.path(manifestDigest))
        return Image(
            references: index.references(to: manifestDigest),
            id: manifest.config.digest,
            manifestDigest: manifestDigest,
            config: config.imageConfig,
            diffIDs: config.rootfs.diffIDs,
            size: manifestSize + manifest.config.size + manifest.layers.reduce(0) { $0 + $1.size },
            created: config.createdDate)
    }

    private func decodeBlob<T: Decodable>(_ type: T.Type, _ digest: Digest, what: String) throws -> T {
        let bytes = try blobs.read(digest, what: what)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw ImageError.invalidArchive(path: blobs.path(digest), reason: "stored \(what) is not valid: \(error)")
        }
    }

    private static func listOrder(_ a: Image, _ b: Image) -> Bool {
        switch (a.references.first, b.references.first) {
        case let (x?, y?): return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a.id < b.id
        }
    }

    // MARK: - Garbage collection

    /// Deletes blobs and unpacked layers that no indexed image uses, and leftovers of
    /// interrupted imports and unpacks. Runs under the exclusive lock, so no import or unpack
    /// is in flight; what pulls in progress hold is kept by their leases. If a live image
    /// cannot be read, nothing is deleted.
    func collectGarbage(keeping index: StoreIndex) throws {
        let leases = try StoreLease.live(in: leasesDirectory)
        var liveBlobs = leases.blobs
        var liveLayers = leases.layers
        for manifestDigest in index.manifests {
            let manifest = try self.manifest(manifestDigest)
            liveBlobs.insert(manifestDigest)
            liveBlobs.insert(manifest.config.digest)
            manifest.layers.forEach { liveBlobs.insert($0.digest) }
            try configFile(manifest.config.digest).rootfs.diffIDs.forEach { liveLayers.insert($0.hex) }
        }
        for digest in try blobs.all() where !liveBlobs.contains(digest) {
            try blobs.remove(digest)
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: layersDirectory) where !liveLayers.contains(name) {
            try FileTree.removeTree(atPath: layersDirectory + "/" + name)
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: blobs.temporaryDirectory) {
            if let owner = name.split(separator: "~", maxSplits: 1).first, leases.ids.contains(String(owner)) { continue }
            try FileTree.removeTree(atPath: blobs.temporaryDirectory + "/" + name)
        }
    }
}
