import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The store's table of names: normalized reference → manifest digest, plus the manifests
/// imported without any name. Everything not reachable from here is garbage.
///
/// Kept in `<root>/index.json`, replaced atomically (write a temporary file, fsync, rename)
/// and only modified under the store's exclusive lock.
struct StoreIndex: Codable, Sendable, Equatable {
    var schemaVersion = 1
    var references: [String: Digest] = [:]
    var untagged: [Digest] = []

    /// Every manifest the index keeps alive.
    var manifests: Set<Digest> { Set(references.values).union(untagged) }

    /// The sorted references that point at `manifest`.
    func references(to manifest: Digest) -> [String] {
        references.filter { $0.value == manifest }.map(\.key).sorted()
    }

    static func load(from path: String) throws -> StoreIndex {
        guard FileTree.exists(path) else { return StoreIndex() }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode(StoreIndex.self, from: data)
        } catch {
            throw ImageError.invalidArchive(path: path, reason: "the image index is unreadable: \(error)")
        }
    }

    func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        let temporary = path + ".tmp-\(getpid())-\(UUID().uuidString)"
        let fd = try Syscall.check("open", temporary) {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        var done = false
        defer {
            close(fd)
            if !done { unlink(temporary) }
        }
        try data.withUnsafeBytes { try Syscall.writeAll(fd, $0, path: temporary) }
        try Syscall.check("fsync", temporary) { fsync(fd) }
        try Syscall.check("rename", path) { rename(temporary, path) }
        done = true
    }
}
