import Foundation
import Glibc

/// One file of a volume's payload: its bytes and permission bits.
public struct FileProjection: Sendable, Equatable {
    public var data: Data
    public var mode: UInt16

    public init(data: Data, mode: UInt16) {
        self.data = data
        self.mode = mode
    }
}

/// kubelet's atomic writer (pkg/volume/util/atomic_writer.go): a volume's files live in a
/// timestamped directory `..2006_01_02_15_04_05.<random>`, the `..data` symlink points at the
/// current one and is swapped with a single rename(2), and the names the user sees are
/// symlinks into `..data`. A reader that opens `name` therefore sees either the old payload or
/// the new one, never a mix; the old directory is removed after the swap.
public struct AtomicWriter: Sendable {
    static let dataDirName = "..data"
    static let dataDirTmpName = "..data_tmp"

    /// The volume's directory (created by the caller, a tmpfs mount point for Secrets).
    public let target: String
    /// The pod's fsGroup: files and directories are given this group and made group-readable
    /// (kubelet's SetVolumeOwnership for read-only volumes).
    public let group: gid_t?

    public init(target: String, group: gid_t? = nil) {
        self.target = target
        self.group = group
    }

    /// Why a payload was refused.
    public struct InvalidPath: Error, CustomStringConvertible, Equatable {
        public let path: String
        public let reason: String
        public var description: String { "invalid path \"\(path)\" in volume payload: \(reason)" }
    }

    /// kubelet's validatePath: relative, no `..` element, not starting with `..` (the writer's
    /// own names), at most 4096 bytes with elements of at most 255.
    public static func validate(path: String) throws {
        guard !path.isEmpty else { throw InvalidPath(path: path, reason: "must not be empty") }
        guard path.utf8.count <= 4096 else { throw InvalidPath(path: path, reason: "must be less than or equal to 4096 characters") }
        guard !path.hasPrefix("/") else { throw InvalidPath(path: path, reason: "must be relative path") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        for part in parts {
            if part == ".." { throw InvalidPath(path: path, reason: "must not contain '..'") }
            if part.utf8.count > 255 { throw InvalidPath(path: path, reason: "each path element must be less than or equal to 255 characters") }
            if part.contains("\0") { throw InvalidPath(path: path, reason: "must not contain a NUL byte") }
        }
        // The writer's own names (..data, ..2006_01_02...) cannot be shadowed.
        guard !path.hasPrefix("..") else { throw InvalidPath(path: path, reason: "must not start with '..'") }
    }

    /// The path with `.` elements and repeated slashes removed (Go's filepath.Clean for a
    /// validated relative path).
    static func clean(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }

    /// Writes `payload` (relative path → file) as the volume's new content. Returns false when
    /// the volume already holds exactly this payload (nothing is written then).
    @discardableResult
    public func write(_ payload: [String: FileProjection]) throws -> Bool {
        var cleaned: [String: FileProjection] = [:]
        for (path, file) in payload {
            try Self.validate(path: path)
            let clean = Self.clean(path)
            guard !clean.isEmpty else { throw InvalidPath(path: path, reason: "must name a file") }
            cleaned[clean] = file
        }
        let dataDir = target + "/" + Self.dataDirName
        let oldTimestamped = Self.readLink(dataDir)
        if let old = oldTimestamped, try matches(cleaned, in: target + "/" + old) {
            return false
        }
        let oldVisible = Set(try visibleNames())

        // 1. The new payload, complete, in a directory of its own.
        let timestamped = try makeTimestampedDir()
        do {
            for (path, file) in cleaned.sorted(by: { $0.key < $1.key }) {
                try writeFile(timestamped + "/" + path, file, under: timestamped)
            }
            try setGroup(timestamped)
        } catch {
            try? FileManager.default.removeItem(atPath: timestamped)
            throw error
        }
        let timestampedName = (timestamped as NSString).lastPathComponent

        // 2. The names the user sees: one symlink per top-level element, into ..data.
        let top = Set(cleaned.keys.map { String($0.split(separator: "/")[0]) })
        for name in top.sorted() where !oldVisible.contains(name) {
            let link = target + "/" + name
            guard symlink(Self.dataDirName + "/" + name, link) == 0 || errno == EEXIST else {
                throw SystemError("symlink", link)
            }
        }

        // 3. The swap: ..data_tmp → the new directory, renamed over ..data in one step.
        let tmpLink = target + "/" + Self.dataDirTmpName
        unlink(tmpLink)
        guard symlink(timestampedName, tmpLink) == 0 else { throw SystemError("symlink", tmpLink) }
        guard rename(tmpLink, dataDir) == 0 else { throw SystemError("rename", tmpLink + " to " + dataDir) }

        // 4. What the old payload had and the new one does not, then the old directory.
        for name in oldVisible.subtracting(top) {
            unlink(target + "/" + name)
        }
        if let old = oldTimestamped, old != timestampedName {
            try? FileManager.default.removeItem(atPath: target + "/" + old)
        }
        return true
    }

    /// The user-visible names: everything in the target except the writer's own `..` entries.
    func visibleNames() throws -> [String] {
        guard FileManager.default.fileExists(atPath: target) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: target).filter { !$0.hasPrefix("..") }
    }

    /// Whether the directory holds exactly this payload (same paths, bytes and modes).
    func matches(_ payload: [String: FileProjection], in directory: String) throws -> Bool {
        var found = 0
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return false }
        for case let relative as String in walker {
            var st = stat()
            guard lstat(directory + "/" + relative, &st) == 0 else { return false }
            if st.st_mode & S_IFMT == S_IFDIR { continue }
            guard let expected = payload[relative], st.st_mode & S_IFMT == S_IFREG,
                  UInt16(st.st_mode & 0o7777) == effectiveMode(expected.mode),
                  FileManager.default.contents(atPath: directory + "/" + relative) == expected.data else { return false }
            found += 1
        }
        return found == payload.count
    }

    func effectiveMode(_ mode: UInt16) -> UInt16 {
        group == nil ? mode & 0o7777 : (mode & 0o7777) | 0o440
    }

    /// `..2006_01_02_15_04_05.` plus a random suffix (Go's os.MkdirTemp with kubelet's pattern).
    func makeTimestampedDir() throws -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy_MM_dd_HH_mm_ss"
        let stamp = ".." + formatter.string(from: Date()) + "."
        for _ in 0..<100 {
            let path = target + "/" + stamp + String(UInt32.random(in: 0...UInt32.max))
            if mkdir(path, 0o755) == 0 {
                chmod(path, 0o755)
                return path
            }
            guard errno == EEXIST else { throw SystemError("mkdir", path) }
        }
        throw SystemError("mkdir", target + "/" + stamp + "*")
    }

    private func writeFile(_ path: String, _ file: FileProjection, under root: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        if parent != root {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            // Every directory between the root and the file gets the group too.
            var directory = parent
            while directory != root && directory.hasPrefix(root + "/") {
                try setGroup(directory)
                directory = (directory as NSString).deletingLastPathComponent
            }
        }
        // O_EXCL|O_NOFOLLOW: the directory is new, so anything already there is an error.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(0o600))
        guard fd >= 0 else { throw SystemError("open", path) }
        defer { close(fd) }
        try file.data.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
        let mode = effectiveMode(file.mode)
        if let group, fchown(fd, uid_t.max, group) != 0 { throw SystemError("fchown", path) }
        // fchmod after the write: the umask does not apply to it.
        guard fchmod(fd, mode_t(mode)) == 0 else { throw SystemError("fchmod", path) }
    }

    private func setGroup(_ path: String) throws {
        guard let group else { return }
        if chown(path, uid_t.max, group) != 0 { throw SystemError("chown", path) }
        var st = stat()
        if stat(path, &st) == 0 { chmod(path, (st.st_mode & 0o7777) | 0o2550) }
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink(path, &buffer, 4096)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
