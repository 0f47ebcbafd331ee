import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keeps content that is in the store but not yet named by any image (the blobs and unpacked
/// layers of a pull in progress) safe from garbage collection: containerd's leases
/// (https://github.com/containerd/containerd/blob/main/docs/garbage-collection.md).
///
/// A lease is a file `<root>/leases/<id>` listing what it protects, one entry a line
/// (`sha256:<hex>` for a blob, `layer:<hex>` for an unpacked layer). Its owner holds a shared
/// `flock` on it for as long as the lease lives, so garbage collection (which runs under the
/// store's exclusive lock) can tell a live lease from one left by a process that died: it takes
/// the file's lock exclusively without waiting, which succeeds only for a dead owner, and then
/// deletes the lease. Temporary files of a lease are named `<root>/tmp/<id>-…` and kept too.
final class StoreLease: Sendable {
    let id: String
    let path: String
    private let fd: Int32
    private let released = Mutex(false)

    init(directory: String) throws {
        let id = "pull-\(getpid())-\(UUID().uuidString.prefix(12).lowercased())"
        let path = directory + "/" + id
        self.id = id
        self.path = path
        // Made under a hidden name, locked, then renamed: garbage collection never sees the
        // lease unlocked (it would take it for a dead one) and ignores hidden names.
        let hidden = directory + "/." + id
        let fd = try Syscall.check("open", hidden) { open(hidden, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600) }
        do {
            try Syscall.check("flock(LOCK_SH)", hidden) { flock(fd, LOCK_SH) }
            try Syscall.check("rename", path) { rename(hidden, path) }
        } catch {
            close(fd)
            unlink(hidden)
            throw error
        }
        self.fd = fd
    }

    deinit { release() }

    /// Protects a blob from now until the lease ends.
    func add(blob digest: Digest) throws { try append("\(digest)\n") }

    /// Protects an unpacked layer directory `layers/<diffID hex>`.
    func add(layer diffID: Digest) throws { try append("layer:\(diffID.hex)\n") }

    private func append(_ line: String) throws {
        try released.withLock { released in
            guard !released else { throw ImageError.system(call: "write", path: path, errno: EBADF) }
            try Array(line.utf8).withUnsafeBytes { try Syscall.writeAll(fd, $0, path: path) }
        }
    }

    /// Ends the lease: what it protected is garbage from now on unless an image names it.
    func release() {
        released.withLock { released in
            guard !released else { return }
            released = true
            unlink(path)
            close(fd)  // drops the lock
        }
    }

    /// What the live leases in `directory` protect, and the ids of those leases; leases whose
    /// owner is gone are deleted on the way. Called under the store's exclusive lock.
    static func live(in directory: String) throws -> (ids: Set<String>, blobs: Set<Digest>, layers: Set<String>) {
        var ids = Set<String>()
        var blobs = Set<Digest>()
        var layers = Set<String>()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where !name.hasPrefix(".") {
            let file = directory + "/" + name
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }  // released meanwhile
            defer { close(fd) }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                // Nobody holds it: the process that took it has ended without releasing it.
                unlink(file)
                continue
            }
            ids.insert(name)
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                if line.hasPrefix("layer:") {
                    layers.insert(String(line.dropFirst(6)))
                } else if let digest = try? Digest(parsing: String(line)) {
                    blobs.insert(digest)
                }
            }
        }
        return (ids, blobs, layers)
    }
}
