#if canImport(Glibc)
import Glibc
#endif

/// Extended attributes on open file descriptors.
///
/// Why dlsym: Swift's Glibc module does not export `<sys/xattr.h>`, and the CShims header
/// (owned by another part of the project) does not include it yet. The functions are plain
/// libc symbols, so they are looked up once and called through their C signatures.
/// TODO: move to a `sl_xattr.h` in CShims and drop this file.
enum Xattr {
    private typealias SetFunction = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    private typealias GetFunction = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int

    /// Addresses of `fsetxattr` and `fgetxattr` (0 if libc lacks them), kept as integers so
    /// they can be shared across threads.
    private static let setAddress: UInt = symbolAddress("fsetxattr")
    private static let getAddress: UInt = symbolAddress("fgetxattr")

    private static func symbolAddress(_ name: String) -> UInt {
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let handle { dlclose(handle) } }
        return dlsym(handle, name).map { UInt(bitPattern: $0) } ?? 0
    }

    /// `fsetxattr(fd, name, value)`; throws `ImageError.system` naming `path`.
    static func set(fd: Int32, name: String, value: [UInt8], path: @autoclosure () -> String) throws {
        guard let pointer = UnsafeRawPointer(bitPattern: setAddress) else {
            throw ImageError.system(call: "fsetxattr(\(name))", path: path(), errno: ENOSYS)
        }
        let function = unsafeBitCast(pointer, to: SetFunction.self)
        _ = try value.withUnsafeBytes { bytes in
            try Syscall.check("fsetxattr(\(name))", path()) { function(fd, name, bytes.baseAddress, bytes.count, 0) }
        }
    }

    /// `fgetxattr(fd, name)`, or nil when the attribute is not set.
    static func get(fd: Int32, name: String, path: @autoclosure () -> String) throws -> [UInt8]? {
        guard let pointer = UnsafeRawPointer(bitPattern: getAddress) else {
            throw ImageError.system(call: "fgetxattr(\(name))", path: path(), errno: ENOSYS)
        }
        let function = unsafeBitCast(pointer, to: GetFunction.self)
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { function(fd, name, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == ENODATA { return nil }
            throw ImageError.system(call: "fgetxattr(\(name))", path: path(), errno: errno)
        }
        return Array(buffer[0..<count])
    }
}
