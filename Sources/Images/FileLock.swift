#if canImport(Glibc)
import Glibc
#endif

/// An advisory `flock(2)` on a file, so that several swiftlet processes (an agent and a CLI
/// import, two imports) can share one store. Importing and removing take it exclusively;
/// unpacking layers takes it shared, so garbage collection never deletes a layer that is
/// being unpacked or a blob an import has written but not yet indexed.
enum FileLock {
    /// Runs `body` holding the lock on `path` (created if needed). Each call opens its own
    /// file description, so threads of one process exclude each other too.
    static func withLock<T>(_ path: String, exclusive: Bool, _ body: () throws -> T) throws -> T {
        let fd = try Syscall.check("open", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        defer { close(fd) }  // closing releases the lock
        try Syscall.check(exclusive ? "flock(LOCK_EX)" : "flock(LOCK_SH)", path) {
            flock(fd, exclusive ? LOCK_EX : LOCK_SH)
        }
        return try body()
    }
}
