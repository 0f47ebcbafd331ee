#if canImport(Glibc)
import Glibc
#endif

/// Directory helpers that never follow symlinks: listing, recursive removal, `mkdir -p`.
/// Used on unpacked layers, whose content is untrusted and may contain links pointing anywhere.
enum FileTree {
    /// The names in the directory open at `fd`, without `.` and `..`.
    static func names(inDirectory fd: Int32, path: String) throws -> [String] {
        // A second descriptor, because closedir closes the one it was given.
        let own = try Syscall.check("openat", path) { openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard let dir = fdopendir(own) else {
            let code = errno
            close(own)
            throw ImageError.system(call: "fdopendir", path: path, errno: code)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw ImageError.system(call: "readdir", path: path, errno: errno) }
                break
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes `name` inside the directory `dirfd` and, if it is a directory, everything under
    /// it. Symlinks are removed, not followed. Missing entries are not an error.
    static func removeTree(in dirfd: Int32, name: String, path: String) throws {
        guard let st = try Syscall.lstatAt(dirfd, name, path: path) else { return }
        if FileMode.isDirectory(st) {
            let fd = try Syscall.check("openat", path) {
                openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            defer { close(fd) }
            for child in try names(inDirectory: fd, path: path) {
                try removeTree(in: fd, name: child, path: path + "/" + child)
            }
            try unlink(in: dirfd, name: name, flags: AT_REMOVEDIR, path: path)
        } else {
            try unlink(in: dirfd, name: name, flags: 0, path: path)
        }
    }

    /// Removes the file or tree at an absolute or relative `path`; nothing there is fine.
    static func removeTree(atPath path: String) throws {
        let (parent, name) = split(path)
        let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return }
            throw ImageError.system(call: "open", path: parent, errno: errno)
        }
        defer { close(fd) }
        try removeTree(in: fd, name: name, path: path)
    }

    /// `mkdir -p path` with mode 0755 for what it creates.
    static func createDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw ImageError.system(call: "mkdir", path: current, errno: errno)
            }
        }
    }

    /// Whether `path` exists (without following a final symlink).
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Whether `path` is a directory (following symlinks, as `open` would).
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && FileMode.isDirectory(st)
    }

    /// `("/a/b", "c")` for `"/a/b/c"`; `(".", "c")` for `"c"`.
    static func split(_ path: String) -> (parent: String, name: String) {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
        let parent = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        return (parent, String(trimmed[trimmed.index(after: slash)...]))
    }

    private static func unlink(in dirfd: Int32, name: String, flags: Int32, path: String) throws {
        if unlinkat(dirfd, name, flags) != 0 && errno != ENOENT {
            throw ImageError.system(call: "unlinkat", path: path, errno: errno)
        }
    }
}
