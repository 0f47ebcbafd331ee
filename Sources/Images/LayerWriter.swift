#if canImport(Glibc)
import Glibc
#endif

/// Writes tar entries of one layer into a directory without ever leaving it.
///
/// Layer content is untrusted. Every path is cleaned (absolute paths and `..` escapes are
/// refused), then walked one component at a time with `openat(O_NOFOLLOW)` from a descriptor
/// of the destination. A symlink met on the way (an earlier entry `etc -> /etc`, then
/// `etc/passwd`) is resolved as if the destination were `/` — openat2's RESOLVE_IN_ROOT, which
/// is also how containerd's `fs.RootPath` scopes layer paths — so it can never point outside.
/// The last component is never followed: it is removed and recreated.
///
/// Directory modes and times are applied at the end, deepest first, so that a read-only
/// directory can still be filled and its mtime is not bumped by its own content.
final class LayerWriter {
    private let rootPath: String
    private let rootFD: Int32
    private let mode: LayerUnpacker.Mode
    private let privileged = geteuid() == 0
    /// Cleaned paths this layer has written, and their ancestors: whiteouts and opaque
    /// markers only hide content of lower layers (image-spec layer.md#whiteouts).
    private var written: Set<String> = []
    /// Directory metadata applied in `finish()`, keyed by resolved path.
    private var deferredDirectories: [String: (components: [String], entry: TarEntry)] = [:]
    /// The parent directory of the previous entry; sorted archives hit it again and again.
    private var cachedParent: (key: [String], fd: Int32, resolved: [String])?
    private var cachedParentIsStale = false
    private let copyBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 17, alignment: 16)

    /// Opens `directory`, which must exist; the writer keeps it open until released.
    init(directory: String, mode: LayerUnpacker.Mode) throws {
        rootPath = directory
        self.mode = mode
        rootFD = try Syscall.check("open", directory) { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    }

    deinit {
        if let cachedParent { close(cachedParent.fd) }
        close(rootFD)
        copyBuffer.deallocate()
    }

    /// Writes one entry; for regular files the content is read from `reader`.
    func write(_ entry: TarEntry, from reader: TarReader) throws {
        let components = try LayerWriter.clean(entry.path, entry: entry.path)
        guard let name = components.last else {
            // The layer's root ("./"): only its metadata can change.
            guard entry.kind == .directory else {
                throw ImageError.unsafePath(entry: entry.path, reason: "the layer root must be a directory")
            }
            deferredDirectories[""] = ([], entry)
            let fd = try walk([], create: false, entry: entry.path).fd
            defer { close(fd) }
            try applyOwnerAndXattrs(fd: fd, entry: entry, path: rootPath)
            return
        }
        let parent = try parentDirectory(Array(components.dropLast()), entry: entry.path)
        if name.hasPrefix(".wh.") {
            try applyWhiteout(name: name, parentFD: parent.fd, parentResolved: parent.resolved, entry: entry)
            return
        }
        let resolved = parent.resolved + [name]
        let path = display(resolved)
        if let existing = try Syscall.lstatAt(parent.fd, name, path: path) {
            if entry.kind == .hardLink, try LayerWriter.clean(entry.linkName, entry: entry.path) == components {
                return  // a link to itself: nothing to do
            }
            if !(entry.kind == .directory && FileMode.isDirectory(existing)) {
                try removeEntry(in: parent.fd, name: name, path: path)
            }
        }
        switch entry.kind {
        case .regular:
            try writeFile(entry, from: reader, parentFD: parent.fd, name: name, path: path)
        case .directory:
            if mkdirat(parent.fd, name, 0o700) != 0 && errno != EEXIST {
                throw ImageError.system(call: "mkdirat", path: path, errno: errno)
            }
            let fd = try Syscall.check("openat", path) {
                openat(parent.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            defer { close(fd) }
            try applyOwnerAndXattrs(fd: fd, entry: entry, path: path)
            deferredDirectories[resolved.joined(separator: "/")] = (resolved, entry)
        case .symlink:
            try Syscall.check("symlinkat", path) { symlinkat(entry.linkName, parent.fd, name) }
            try applyOwnerAndTimes(parentFD: parent.fd, name: name, entry: entry, path: path)
        case .hardLink:
            try writeHardLink(entry, parentFD: parent.fd, name: name, path: path)
        case .characterDevice, .blockDevice, .fifo:
            let type = entry.kind == .fifo ? FileMode.fifo
                : entry.kind == .characterDevice ? FileMode.characterDevice : FileMode.blockDevice
            let device = Syscall.makeDevice(major: entry.deviceMajor, minor: entry.deviceMinor)
            if mknodat(parent.fd, name, type | 0o600, device) != 0 {
                // Unprivileged unpacking (tests, rootless) skips devices as rootless containerd does.
                if errno == EPERM && !privileged && entry.kind != .fifo { return }
                throw ImageError.system(call: "mknodat", path: path, errno: errno)
            }
            try applyOwnerAndTimes(parentFD: parent.fd, name: name, entry: entry, path: path)
            try Syscall.check("fchmodat", path) { fchmodat(parent.fd, name, mode_t(entry.mode), 0) }
        }
        markWritten(resolved)
    }

    /// Applies the deferred directory modes and times, deepest directories first.
    func finish() throws {
        let ordered = deferredDirectories.values.sorted { $0.components.count > $1.components.count }
        for (components, entry) in ordered {
            let fd: Int32
            do {
                fd = try walk(components, create: false, entry: entry.path).fd
            } catch {
                continue  // replaced by a later entry of the same layer
            }
            defer { close(fd) }
            let path = display(components)
            try Syscall.check("fchmod", path) { fchmod(fd, mode_t(entry.mode)) }
            let times = LayerWriter.times(entry)
            try Syscall.check("futimens", path) { futimens(fd, times) }
        }
        deferredDirectories.removeAll()
    }

    // MARK: - Entry kinds

    private func writeFile(_ entry: TarEntry, from reader: TarReader, parentFD: Int32, name: String, path: String) throws {
        let fd = try Syscall.check("openat", path) {
            openat(parentFD, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        defer { close(fd) }
        while true {
            let n = try reader.readData(into: copyBuffer)
            if n == 0 { break }
            try Syscall.writeAll(fd, UnsafeRawBufferPointer(rebasing: copyBuffer[0..<n]), path: path)
        }
        try applyOwnerAndXattrs(fd: fd, entry: entry, path: path)
        // After chown, which clears setuid/setgid bits.
        try Syscall.check("fchmod", path) { fchmod(fd, mode_t(entry.mode)) }
        let times = LayerWriter.times(entry)
        try Syscall.check("futimens", path) { futimens(fd, times) }
    }

    private func writeHardLink(_ entry: TarEntry, parentFD: Int32, name: String, path: String) throws {
        // The target is an archive path, resolved inside the destination like any entry path.
        let target = try LayerWriter.clean(entry.linkName, entry: entry.path)
        guard let targetName = target.last else {
            throw ImageError.unsafePath(entry: entry.path, reason: "hard link to the layer root")
        }
        let targetParent = try walk(Array(target.dropLast()), create: false, entry: entry.path)
        defer { close(targetParent.fd) }
        try Syscall.check("linkat", "\(path) -> \(display(targetParent.resolved + [targetName]))") {
            linkat(targetParent.fd, targetName, parentFD, name, 0)
        }
    }

    /// `.wh.NAME` hides NAME of lower layers; `.wh..wh..opq` hides all lower content of its directory.
    /// Overlay mode records them as overlayfs does (a 0:0 character device, the
    /// `trusted.overlay.opaque` xattr), like containerd's overlay snapshotter; apply mode deletes.
    private func applyWhiteout(name: String, parentFD: Int32, parentResolved: [String], entry: TarEntry) throws {
        if name == ".wh..wh..opq" {
            switch mode {
            case .overlay:
                do {
                    try Xattr.set(fd: parentFD, name: "trusted.overlay.opaque", value: Array("y".utf8),
                                  path: display(parentResolved))
                } catch ImageError.system(let call, let path, EPERM) {
                    throw ImageError.needsRoot(call: call, path: path, errno: EPERM)
                }
            case .apply:
                try removeLowerContent(of: parentFD, resolved: parentResolved)
            }
            return
        }
        let target = String(name.dropFirst(".wh.".count))
        guard !target.isEmpty, target != ".", target != "..", !target.hasPrefix(".wh.") else {
            throw ImageError.unsafePath(entry: entry.path, reason: "invalid whiteout name")
        }
        let resolved = parentResolved + [target]
        if written.contains(resolved.joined(separator: "/")) { return }
        let path = display(resolved)
        try removeEntry(in: parentFD, name: target, path: path)
        if mode == .overlay {
            if mknodat(parentFD, target, FileMode.characterDevice, Syscall.makeDevice(major: 0, minor: 0)) != 0 {
                let code = errno
                throw code == EPERM
                    ? ImageError.needsRoot(call: "mknodat", path: path, errno: code)
                    : ImageError.system(call: "mknodat", path: path, errno: code)
            }
        }
    }

    /// Apply-mode opaque directory: removes everything in it this layer did not write.
    private func removeLowerContent(of fd: Int32, resolved: [String]) throws {
        for child in try FileTree.names(inDirectory: fd, path: display(resolved)) {
            let childResolved = resolved + [child]
            let path = display(childResolved)
            guard written.contains(childResolved.joined(separator: "/")) else {
                try removeEntry(in: fd, name: child, path: path)
                continue
            }
            guard let st = try Syscall.lstatAt(fd, child, path: path), FileMode.isDirectory(st) else { continue }
            let childFD = try Syscall.check("openat", path) {
                openat(fd, child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            defer { close(childFD) }
            try removeLowerContent(of: childFD, resolved: childResolved)
        }
    }

    // MARK: - Metadata

    private func applyOwnerAndXattrs(fd: Int32, entry: TarEntry, path: String) throws {
        if fchown(fd, uid_t(truncatingIfNeeded: entry.uid), gid_t(truncatingIfNeeded: entry.gid)) != 0 {
            // Without root the files stay ours, as with rootless unpacking.
            if privileged || (errno != EPERM && errno != EINVAL) {
                throw ImageError.system(call: "fchown", path: path, errno: errno)
            }
        }
        for (name, value) in entry.xattrs.sorted(by: { $0.key < $1.key }) {
            // overlayfs metadata only ever comes from whiteout markers, never from the archive.
            if name.hasPrefix("trusted.overlay.") { continue }
            try? Xattr.set(fd: fd, name: name, value: value, path: path)  // best effort, like containerd
        }
    }

    private func applyOwnerAndTimes(parentFD: Int32, name: String, entry: TarEntry, path: String) throws {
        let uid = uid_t(truncatingIfNeeded: entry.uid), gid = gid_t(truncatingIfNeeded: entry.gid)
        if fchownat(parentFD, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0 {
            if privileged || (errno != EPERM && errno != EINVAL) {
                throw ImageError.system(call: "fchownat", path: path, errno: errno)
            }
        }
        let times = LayerWriter.times(entry)
        try Syscall.check("utimensat", path) { utimensat(parentFD, name, times, AT_SYMLINK_NOFOLLOW) }
    }

    /// Access and modification time for `futimens`/`utimensat`: both the entry's mtime.
    private static func times(_ entry: TarEntry) -> [timespec] {
        let t = timespec(tv_sec: Int(entry.modificationSeconds), tv_nsec: Int(entry.modificationNanoseconds))
        return [t, t]
    }

    // MARK: - Paths

    /// Splits an archive path into components, dropping `.` and empty ones and resolving `..`
    /// lexically. Absolute paths and paths that climb above the root are refused.
    static func clean(_ path: String, entry: String) throws -> [String] {
        if path.hasPrefix("/") {
            throw ImageError.unsafePath(entry: entry, reason: "absolute path \"\(path)\"")
        }
        var components: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                guard !components.isEmpty else {
                    throw ImageError.unsafePath(entry: entry, reason: "\"\(path)\" escapes the layer with \"..\"")
                }
                components.removeLast()
                continue
            }
            components.append(String(part))
        }
        return components
    }

    private func display(_ components: [String]) -> String {
        components.isEmpty ? rootPath : rootPath + "/" + components.joined(separator: "/")
    }

    private func markWritten(_ components: [String]) {
        var prefix = components
        while !prefix.isEmpty, written.insert(prefix.joined(separator: "/")).inserted {
            prefix.removeLast()
        }
    }

    private func removeEntry(in dirFD: Int32, name: String, path: String) throws {
        try FileTree.removeTree(in: dirFD, name: name, path: path)
        // A removed directory may have been the cached parent or one of its ancestors. The
        // descriptor stays open: the current entry may still be using it.
        cachedParentIsStale = true
    }

    /// The open parent directory of an entry (owned by the cache; do not close).
    private func parentDirectory(_ components: [String], entry: String) throws -> (fd: Int32, resolved: [String]) {
        if let cachedParent, cachedParent.key == components, !cachedParentIsStale {
            return (cachedParent.fd, cachedParent.resolved)
        }
        let opened = try walk(components, create: true, entry: entry)
        if let cachedParent { close(cachedParent.fd) }
        cachedParent = (components, opened.fd, opened.resolved)
        cachedParentIsStale = false
        return opened
    }

    /// Opens the directory at `components` below the root, resolving symlinks inside the root
    /// (at most 40, like the kernel's MAXSYMLINKS) and, with `create`, making missing
    /// directories (mode 0755, as tar does for parents missing from the archive).
    /// Returns a descriptor the caller closes and the real path from the root.
    private func walk(_ components: [String], create: Bool, entry: String) throws -> (fd: Int32, resolved: [String]) {
        var fds: [Int32] = [try Syscall.check("openat", rootPath) { openat(rootFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }]
        var resolved: [String] = []
        var pending = Array(components.reversed())
        var linksFollowed = 0
        var succeeded = false
        defer { if !succeeded { fds.forEach { close($0) } } }
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                if fds.count > 1 {
                    close(fds.removeLast())
                    resolved.removeLast()
                }
                continue
            }
            let current = fds[fds.count - 1]
            let path = display(resolved + [component])
            let fd = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                fds.append(fd)
                resolved.append(component)
                continue
            }
            switch errno {
            case EINTR:
                pending.append(component)
            case ENOENT where create:
                if mkdirat(current, component, 0o755) != 0 && errno != EEXIST {
                    throw ImageError.system(call: "mkdirat", path: path, errno: errno)
                }
                pending.append(component)
            case ENOTDIR, ELOOP:
                guard let st = try Syscall.lstatAt(current, component, path: path),
                    st.st_mode & FileMode.typeMask == FileMode.symlink
                else {
                    throw ImageError.unsafePath(entry: entry, reason: "\(path) is not a directory")
                }
                linksFollowed += 1
                guard linksFollowed <= 40 else {
                    throw ImageError.unsafePath(entry: entry, reason: "too many levels of symbolic links at \(path)")
                }
                let target = try readLink(current, component, path: path)
                if target.hasPrefix("/") {
                    // Absolute targets restart from the destination, never from the host's /.
                    fds[1...].forEach { close($0) }
                    fds.removeSubrange(1...)
                    resolved.removeAll()
                }
                pending.append(contentsOf: target.split(separator: "/").reversed().map(String.init))
            default:
                throw ImageError.system(call: "openat", path: path, errno: errno)
            }
        }
        succeeded = true
        let result = fds.removeLast()
        fds.forEach { close($0) }
        return (result, resolved)
    }

    private func readLink(_ dirFD: Int32, _ name: String, path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = try buffer.withUnsafeMutableBufferPointer { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            return try Syscall.checkCount("readlinkat", path) { readlinkat(dirFD, name, base, raw.count - 1) }
        }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
