import CShims
#if canImport(Glibc)
import Glibc
#endif

/// Extended attributes on open file descriptors (`<sys/xattr.h>` via CShims).
enum Xattr {
    /// `fsetxattr(fd, name, value)`; throws `ImageError.system` naming `path`.
    static func set(fd: Int32, name: String, value: [UInt8], path: @autoclosure () -> String) throws {
        _ = try value.withUnsafeBytes { bytes in
            try Syscall.check("fsetxattr(\(name))", path()) { fsetxattr(fd, name, bytes.baseAddress, bytes.count, 0) }
        }
    }

    /// `fgetxattr(fd, name)`, or nil when the attribute is not set.
    static func get(fd: Int32, name: String, path: @autoclosure () -> String) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { fgetxattr(fd, name, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == ENODATA { return nil }
            throw ImageError.system(call: "fgetxattr(\(name))", path: path(), errno: errno)
        }
        return Array(buffer[0..<count])
    }
}
