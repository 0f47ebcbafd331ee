import CShims
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension ImageStore {
    /// The unpacked layer directories of `image`, bottom to top, ready to be overlayfs
    /// lowerdirs (overlayfs lists them top first: reverse this). Layers are unpacked on
    /// first use into `layers/<diffID hex>` and shared by every image that has them.
    ///
    /// Unpacking writes whiteout devices and `trusted.*` xattrs, so a layer with whiteouts
    /// needs root. Each layer is unpacked into `layers/<hex>.tmp-<pid>-<id>` and renamed into
    /// place, so concurrent callers (threads or processes) never see a partial layer: the
    /// first rename wins and the others discard their copy.
    public func layerDirectories(for image: Image) throws -> [String] {
        try FileLock.withLock(lockPath, exclusive: false) {
            let manifest = try storedManifest(of: image)
            var directories: [String] = []
            for (layer, diffID) in zip(manifest.layers, image.diffIDs) {
                let directory = layersDirectory + "/" + diffID.hex
                if !FileTree.isDirectory(directory) {
                    try LayerUnpackGate.serialize(directory) {
                        // Unpacked by another thread while this one waited: use it.
                        if !FileTree.isDirectory(directory) {
                            try unpackLayer(layer, diffID: diffID, into: directory)
                        }
                    }
                }
                directories.append(directory)
            }
            return directories
        }
    }

    /// Applies all layers of `image` into `directory` (which must exist), deleting what
    /// whiteouts hide: one plain root filesystem, e.g. to inspect an image or to run it
    /// without overlayfs. Works without root (ownership is then not preserved).
    public func flatten(_ image: Image, into directory: String) throws {
        try FileLock.withLock(lockPath, exclusive: false) {
            let manifest = try storedManifest(of: image)
            for (layer, diffID) in zip(manifest.layers, image.diffIDs) {
                try VerifiedLayer(blobs: blobs, layer: layer).unpack(diffID: diffID) {
                    try LayerUnpacker(mode: .apply).unpack($0, into: directory)
                }
            }
        }
    }

    /// The manifest of an image value, checked to be still in the store and consistent.
    private func storedManifest(of image: Image) throws -> OCIManifest {
        guard blobs.contains(image.manifestDigest) else {
            throw ImageError.notFound(image.references.first ?? image.id.description)
        }
        let manifest = try self.manifest(image.manifestDigest)
        guard manifest.layers.count == image.diffIDs.count else {
            throw ImageError.invalidArchive(
                path: blobs.path(image.manifestDigest),
                reason: "manifest has \(manifest.layers.count) layers but the image \(image.diffIDs.count) diff IDs")
        }
        return manifest
    }

    func unpackLayer(_ layer: OCIDescriptor, diffID: Digest, into directory: String) throws {
        let temporary = directory + ".tmp-\(getpid())-\(UUID().uuidString.prefix(8))"
        try Syscall.check("mkdir", temporary) { mkdir(temporary, 0o755) }
        var renamed = false
        defer { if !renamed { try? FileTree.removeTree(atPath: temporary) } }

        try VerifiedLayer(blobs: blobs, layer: layer).unpack(diffID: diffID) {
            try LayerUnpacker(mode: .overlay).unpack($0, into: temporary)
        }
        // On disk before it has its name: a layer directory that exists is used as it is, so
        // one left with empty files by a power loss would never be unpacked again (containerd
        // issue 5854; its CRI plugin's opt-in image_pull_with_sync_fs, PR 9401, is this same
        // syncfs after unpacking). One syncfs for the tree: an fsync per file costs far more on
        // layers of thousands of files.
        let tree = try Syscall.check("open", temporary) { open(temporary, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(tree) }
        try Syscall.check("syncfs", temporary) { sl_syncfs(tree) }

        if rename(temporary, directory) != 0 {
            // Someone else unpacked the same layer first: theirs is as good as ours.
            guard errno == EEXIST || errno == ENOTEMPTY else {
                throw ImageError.system(call: "rename", path: directory, errno: errno)
            }
            return
        }
        renamed = true
    }
}

/// A layer blob opened for unpacking, with its compressed bytes hashed on the way through
/// so that a blob corrupted on disk is reported as such, not unpacked or misread.
private struct VerifiedLayer {
    let path: String
    let layer: OCIDescriptor
    let compressed: DigestingSource
    let uncompressed: any ByteSource

    init(blobs: BlobStore, layer: OCIDescriptor) throws {
        self.layer = layer
        path = blobs.path(layer.digest)
        _ = try MediaType.layerCompression(layer.mediaType)  // refuses unknown types
        let file = try FileSource(path: path)
        // The content decides, as at import: docker archives name gzip layers "layer.tar".
        let magic = try file.peek(4)
        compressed = DigestingSource(file)
        if magic.starts(with: [0x1f, 0x8b]) {
            uncompressed = try GzipSource(compressed, description: path)
        } else if magic == LayerUnpacker.zstdMagic {
            uncompressed = try ZstdSource(compressed, description: path)
        } else {
            uncompressed = compressed
        }
    }

    /// Runs `unpack` over the uncompressed stream, then checks the blob digest and the diff ID.
    /// A corrupt blob is reported as a digest mismatch even when it broke gzip or tar first.
    func unpack(diffID: Digest, _ unpack: (any ByteSource) throws -> Digest) throws {
        let actual: Digest
        do {
            actual = try unpack(uncompressed)
        } catch {
            try checkBlobDigest()
            throw error
        }
        try checkBlobDigest()
        guard actual == diffID else {
            throw ImageError.digestMismatch(what: "layer blob \(path) (uncompressed)", expected: diffID, actual: actual)
        }
    }

    private func checkBlobDigest() throws {
        try compressed.drain()
        let blobDigest = compressed.finalize()
        guard blobDigest == layer.digest else {
            throw ImageError.digestMismatch(what: "layer blob \(path)", expected: layer.digest, actual: blobDigest)
        }
    }
}

/// One unpacking of a layer at a time in this process: the first start of an image by 100 pods
/// at once had each of them unpack the same layer into a copy of its own (and syncfs it), all
/// but one thrown away at the rename. Other processes still race safely through the rename.
enum LayerUnpackGate {
    private static let locks = Mutex<[String: NSLock]>([:])

    static func serialize<T>(_ directory: String, _ body: () throws -> T) throws -> T {
        let lock = locks.withLock { locks in
            if let existing = locks[directory] { return existing }
            let made = NSLock()
            locks[directory] = made
            return made
        }
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
