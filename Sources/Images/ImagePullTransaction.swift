import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension ImageStore {
    /// Starts bringing an image in from a registry (see `ImagePullTransaction`).
    package func beginPull() throws -> ImagePullTransaction {
        try ImagePullTransaction(store: self)
    }
}

/// One pull's way into the store: blobs are written and verified one by one, layers unpacked as
/// they arrive, and the image named only at the end (`commit`), once everything it points to is
/// present. Until then a lease keeps what the pull has brought from garbage collection, and if
/// the pull fails or is abandoned, it all becomes garbage the next collection removes.
///
/// Several transactions (pulls of several images, in one process or several) may run at once;
/// blobs and layers they share are simply found present by the later ones.
package final class ImagePullTransaction: Sendable {
    let store: ImageStore
    let lease: StoreLease

    init(store: ImageStore) throws {
        self.store = store
        lease = try StoreLease(directory: store.leasesDirectory)
    }

    /// Whether the store has the blob; if so it is kept for this pull from now on.
    package func reuse(blob digest: Digest) throws -> Bool {
        // Leased first, checked second: a collection between the two sees the lease.
        try lease.add(blob: digest)
        return store.blobs.contains(digest)
    }

    /// A stored blob's bytes, verified, or nil when the store does not have it (manifests,
    /// indexes and configs a previous pull brought).
    package func storedBlob(_ digest: Digest, what: String) throws -> [UInt8]? {
        guard try reuse(blob: digest) else { return nil }
        return try store.blobs.read(digest, what: what)
    }

    /// Stores a small blob (a manifest, index or config fetched whole) after checking it hashes
    /// to `digest`.
    package func store(blob bytes: [UInt8], digest: Digest, what: String) throws {
        let actual = Digest.of(bytes)
        guard actual == digest else { throw ImageError.digestMismatch(what: what, expected: digest, actual: actual) }
        if try reuse(blob: digest) { return }
        let writer = try writer(for: digest, size: Int64(bytes.count))
        try bytes.withUnsafeBytes { try writer.append($0) }
        try writer.commit()
    }

    /// A writer for a blob to download; leased before the first byte is written.
    package func writer(for digest: Digest, size: Int64) throws -> BlobWriter {
        try lease.add(blob: digest)
        let path = store.blobs.temporaryDirectory + "/\(lease.id)~\(digest.hex.prefix(16))~\(UUID().uuidString.prefix(8))"
        return try BlobWriter(store: store.blobs, path: path, expected: digest, expectedSize: size)
    }

    /// Unpacks a stored layer blob into `layers/<diffID hex>` unless it is there already,
    /// checking the blob's digest and the uncompressed stream's diff ID on the way. Blocking
    /// (CPU and file I/O): run it on a thread of its own.
    package func unpack(layer: OCIDescriptor, diffID: Digest) throws {
        try lease.add(layer: diffID)
        try FileLock.withLock(store.lockPath, exclusive: false) {
            let directory = store.layersDirectory + "/" + diffID.hex
            if FileTree.isDirectory(directory) { return }
            try store.unpackLayer(layer, diffID: diffID, into: directory)
        }
    }

    /// Names the image: each of `names` (normalized references: the tag pulled and the repo
    /// digest `name@sha256:…`) now points at `manifest`. An image that loses its last name this
    /// way stays in the store without one, as docker keeps a "dangling" image: containers may
    /// still run on its layers, and the agent's image garbage collection removes it once none
    /// does. Ends the transaction.
    package func commit(manifest: Digest, names: [String]) throws -> Image {
        defer { lease.release() }
        return try FileLock.withLock(store.lockPath, exclusive: true) {
            guard store.blobs.contains(manifest) else {
                throw ImageError.notFound(names.first ?? manifest.description)
            }
            var index = try StoreIndex.load(from: store.indexPath)
            let before = index.manifests
            for name in names { index.references[name] = manifest }
            index.untagged.removeAll { $0 == manifest }
            for old in before.subtracting(index.manifests) where !index.untagged.contains(old) {
                index.untagged.append(old)
            }
            try index.save(to: store.indexPath)
            return try store.loadImage(manifest, index: index)
        }
    }

    /// Gives up: what the pull stored and no image uses is removed now (a failed pull leaves
    /// nothing behind), other pulls' leased content excepted.
    package func cancel() {
        lease.release()
        try? FileLock.withLock(store.lockPath, exclusive: true) {
            try store.collectGarbage(keeping: StoreIndex.load(from: store.indexPath))
        }
    }
}
