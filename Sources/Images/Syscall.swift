#if canImport(Glibc)
import Glibc
#endif

/// The one place where the store's syscalls turn `-1`/`errno` into errors: EINTR is retried
/// here, and every error names the call and the path, e.g. `mknodat(layers/…/srv/gone.txt): EPERM`.
enum Syscall {
    /// Runs `body` until it does not fail with EINTR; throws `ImageError.system` on failure.
    @discardableResult
    static func check(_ call: String, _ path: @autoclosure () -> String, _ body: () -> Int32) throws -> Int32 {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw ImageError.system(call: call, path: path(), errno: code)
        }
    }

    /// `check` for calls returning a byte count (`read`, `write`, `readlinkat`).
    static func checkCount(_ call: String, _ path: @autoclosure () -> String, _ body: () -> Int) throws -> Int {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw ImageError.system(call: call, path: path(), errno: code)
        }
    }

    /// Writes all of `buffer` to `fd`.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: @autoclosure () -> String) throws {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            offset += try checkCount("write", path()) { write(fd, base + offset, buffer.count - offset) }
        }
    }

    /// `fstatat(…, AT_SYMLINK_NOFOLLOW)`, or nil when nothing is there.
    static func lstatAt(_ dirfd: Int32, _ name: String, path: @autoclosure () -> String) throws -> stat? {
        var st = stat()
        while fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT { return nil }
            throw ImageError.system(call: "fstatat", path: path(), errno: code)
        }
        return st
    }

    /// `makedev(3)`, which glibc defines as a macro Swift cannot import.
    static func makeDevice(major: UInt32, minor: UInt32) -> dev_t {
        let major = UInt64(major), minor = UInt64(minor)
        return dev_t(((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff))
    }
}

/// File type bits of `st_mode` (the `S_IF*` macros are not all imported into Swift).
enum FileMode {
    static let typeMask: mode_t = 0o170000
    static let directory: mode_t = 0o040000
    static let regular: mode_t = 0o100000
    static let symlink: mode_t = 0o120000
    static let characterDevice: mode_t = 0o020000
    static let blockDevice: mode_t = 0o060000
    static let fifo: mode_t = 0o010000

    static func isDirectory(_ st: stat) -> Bool { st.st_mode & typeMask == directory }
}
