#if canImport(Glibc)
import Glibc
#endif

/// A blob being downloaded into the store: bytes are appended to a temporary file and hashed as
/// they come, so the digest is known the moment the last byte is written and no second pass
/// over the file is needed (containerd's content writer does the same). Committing renames the
/// file into `blobs/sha256/<hex>` only if digest and size are what the descriptor promised.
///
/// Not thread-safe: it is handed to one writer thread at a time and never used from two at once
/// (hence `@unchecked Sendable`). `reset()` starts over when a resumed download cannot
/// continue where it broke.
package final class BlobWriter: @unchecked Sendable {
    /// The digest the content must have.
    package let expected: Digest
    /// The size the descriptor gave.
    package let expectedSize: Int64
    /// The temporary file, `<root>/tmp/<lease>~<hex>~<n>`.
    package let path: String
    private let fd: Int32
    private var hasher = SHA256()
    /// Bytes written so far: where a resumed download continues (HTTP `Range: bytes=<written>-`).
    package private(set) var written: Int64 = 0
    private let store: BlobStore
    private var done = false

    init(store: BlobStore, path: String, expected: Digest, expectedSize: Int64) throws {
        self.store = store
        self.path = path
        self.expected = expected
        self.expectedSize = expectedSize
        fd = try Syscall.check("open", path) { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
    }

    deinit {
        close(fd)
        if !done { unlink(path) }
    }

    /// Appends `bytes`. More bytes than the descriptor's size is an error at once: a server
    /// cannot make us write an endless stream to disk.
    package func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        guard written + Int64(bytes.count) <= expectedSize else {
            throw ImageError.sizeMismatch(what: "blob \(expected)", expected: expectedSize, actual: written + Int64(bytes.count))
        }
        hasher.update(bytes)
        try Syscall.writeAll(fd, bytes, path: path)
        written += Int64(bytes.count)
    }

    /// Drops what was written, to download the blob again from its first byte.
    package func reset() throws {
        try Syscall.check("ftruncate", path) { ftruncate(fd, 0) }
        try Syscall.check("lseek", path) { Int32(truncatingIfNeeded: lseek(fd, 0, SEEK_SET)) }
        hasher = SHA256()
        written = 0
    }

    /// Checks size and digest and moves the file to its place in the store. A mismatch deletes
    /// the file and throws: nothing unverified is ever stored.
    package func commit() throws {
        defer {
            if !done { unlink(path) }
        }
        guard written == expectedSize else {
            throw ImageError.sizeMismatch(what: "blob \(expected)", expected: expectedSize, actual: written)
        }
        let actual = Digest(sha256: hasher.finalize())
        guard actual == expected else {
            throw ImageError.digestMismatch(what: "blob \(expected)", expected: expected, actual: actual)
        }
        // On disk before it has its name: a later pull takes a blob that is there as present
        // and does not fetch it again (skopeo and containerd's content store sync too).
        try Syscall.check("fsync", path) { fsync(fd) }
        try Syscall.check("rename", store.path(expected)) { rename(path, store.path(expected)) }
        done = true
    }
}
