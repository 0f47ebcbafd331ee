import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed blobs under `<root>/blobs/sha256/<hex>`.
///
/// Blobs are written to a temporary file in `<root>/tmp`, hashed while being copied, and
/// renamed into place only when the digest matches, so a blob path always holds exactly the
/// content its name promises (the same discipline as containerd's content store ingests).
struct BlobStore: Sendable {
    let root: String

    var directory: String { root + "/blobs/sha256" }
    var temporaryDirectory: String { root + "/tmp" }

    func path(_ digest: Digest) -> String { directory + "/" + digest.hex }

    func contains(_ digest: Digest) -> Bool { FileTree.exists(path(digest)) }

    /// Copies the file at `source` into the store, verifying it against `expected` (digest
    /// and size) when given. Returns the digest, the size, and whether the blob is new.
    /// - Parameters:
    ///   - what: names the blob in errors, e.g. `layer blobs/sha256/ab… in busybox.tar`.
    ///   - move: `source` is a store temporary (an extracted archive): verify it in place and
    ///     rename it instead of copying, saving a copy of every layer.
    @discardableResult
    func ingest(file source: String, expected: Digest?, expectedSize: Int64? = nil, what: String, move: Bool = false)
        throws -> (digest: Digest, size: Int64, added: Bool)
    {
        if let expected, contains(expected) {
            return (expected, try size(of: path(expected)), false)
        }
        var st = stat()
        if move, lstat(source, &st) == 0, st.st_mode & FileMode.typeMask == FileMode.regular {
            return try moveIn(source, expected: expected, expectedSize: expectedSize, what: what)
        }
        let input = DigestingSource(try FileSource(path: source))
        let temporary = temporaryDirectory + "/blob-\(getpid())-\(UUID().uuidString)"
        let fd = try Syscall.check("open", temporary) {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        var renamed = false
        defer {
            close(fd)
            if !renamed { unlink(temporary) }
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 17, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try input.read(into: buffer)
            if n == 0 { break }
            try Syscall.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: temporary)
        }
        let actual = input.finalize()
        try check(actual, size: input.byteCount, expected: expected, expectedSize: expectedSize, what: what, source: source)
        if contains(actual) { return (actual, input.byteCount, false) }
        try Syscall.check("fsync", temporary) { fsync(fd) }
        try Syscall.check("rename", path(actual)) { rename(temporary, path(actual)) }
        renamed = true
        return (actual, input.byteCount, true)
    }

    private func moveIn(_ source: String, expected: Digest?, expectedSize: Int64?, what: String) throws
        -> (digest: Digest, size: Int64, added: Bool)
    {
        let input = DigestingSource(try FileSource(path: source))
        try input.drain()
        let actual = input.finalize()
        try check(actual, size: input.byteCount, expected: expected, expectedSize: expectedSize, what: what, source: source)
        if contains(actual) { return (actual, input.byteCount, false) }
        let fd = try Syscall.check("open", source) { open(source, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        // Extracted with the archive's owner and mode; blobs are the store's, read-only to others.
        _ = fchown(fd, geteuid(), getegid())
        try Syscall.check("fchmod", source) { fchmod(fd, 0o644) }
        try Syscall.check("fsync", source) { fsync(fd) }
        try Syscall.check("rename", path(actual)) { rename(source, path(actual)) }
        return (actual, input.byteCount, true)
    }

    private func check(
        _ actual: Digest, size: Int64, expected: Digest?, expectedSize: Int64?, what: String, source: String
    ) throws {
        if let expected, actual != expected {
            throw ImageError.digestMismatch(what: what, expected: expected, actual: actual)
        }
        if let expectedSize, size != expectedSize {
            throw ImageError.invalidArchive(
                path: source, reason: "\(what) has \(size) bytes but its descriptor says \(expectedSize)")
        }
    }

    /// Stores `bytes` (a synthesized manifest) and returns their digest.
    func ingest(bytes: [UInt8]) throws -> Digest {
        let digest = Digest.of(bytes)
        if contains(digest) { return digest }
        let temporary = temporaryDirectory + "/blob-\(getpid())-\(UUID().uuidString)"
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: temporary))
            try Syscall.check("rename", path(digest)) { rename(temporary, path(digest)) }
        } catch {
            unlink(temporary)
            throw error
        }
        return digest
    }

    /// Reads a small blob (manifest, index, config) and checks it still matches its digest.
    func read(_ digest: Digest, what: String) throws -> [UInt8] {
        try BlobStore.readVerified(path(digest), digest: digest, what: "\(what) \(path(digest))")
    }

    /// Reads a JSON-sized file (at most 16 MiB, as containerd limits manifests) and verifies it.
    static func readVerified(_ path: String, digest: Digest, what: String) throws -> [UInt8] {
        let source = try FileSource(path: path)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            bytes += chunk[0..<n]
            guard bytes.count <= 16 << 20 else {
                throw ImageError.invalidArchive(path: path, reason: "\(what) is larger than 16 MiB")
            }
        }
        let actual = Digest.of(bytes)
        guard actual == digest else { throw ImageError.digestMismatch(what: what, expected: digest, actual: actual) }
        return bytes
    }

    /// Every blob digest in the store (files with other names are ignored).
    func all() throws -> [Digest] {
        try FileManager.default.contentsOfDirectory(atPath: directory).compactMap { try? Digest(hex: $0) }
    }

    func remove(_ digest: Digest) throws {
        if unlink(path(digest)) != 0 && errno != ENOENT {
            throw ImageError.system(call: "unlink", path: path(digest), errno: errno)
        }
    }

    func size(of path: String) throws -> Int64 {
        var st = stat()
        try Syscall.check("stat", path) { stat(path, &st) }
        return Int64(st.st_size)
    }
}
