import Glibc

/// Small file operations for the network's state directory, on raw syscalls: they run on the
/// pod setup path, where Foundation's file APIs cost more than the netlink work itself.
enum StateFiles {
    /// `mkdir -p`.
    static func makeDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw NetworkError.system(step: "mkdir", detail: current, errno: errno)
            }
        }
    }

    /// The file's text (up to 64 KiB), nil when it cannot be read.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to `path` (created or truncated).
    static func write(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw NetworkError.system(step: "open", detail: path, errno: errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw NetworkError.system(step: "write", detail: path, errno: written < 0 ? errno : EIO)
        }
    }

    /// Writes `text` to a temporary file and renames it over `path`: readers see the old or
    /// the new content, never a part.
    static func replace(_ path: String, _ text: String) throws {
        let temporary = path + ".tmp"
        try write(temporary, text)
        guard rename(temporary, path) == 0 else {
            let err = errno
            unlink(temporary)
            throw NetworkError.system(step: "rename", detail: path, errno: err)
        }
    }

    /// Removes a file; a missing one is fine.
    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw NetworkError.system(step: "unlink", detail: path, errno: errno)
        }
    }

    /// Names in a directory (without `.` and `..`); empty when it does not exist.
    static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw NetworkError.system(step: "opendir", detail: path, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
