#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The one place where the cgroup managers touch the filesystem: every read, write, mkdir
/// and rmdir goes through here, so errno becomes a `CgroupError` naming the path, EINTR is
/// retried here and nowhere else, and tests can record the exact writes (`WriteTrace`).
struct CgroupFiles: Sendable {
    /// Records every successful write in order; nil in production.
    let trace: WriteTrace?

    init(trace: WriteTrace? = nil) {
        self.trace = trace
    }

    /// Writes `value` in one `write(2)`, as the kernel parses one value per write.
    /// `O_TRUNC` (as runc does) keeps fake files in test trees holding only the last value.
    func write(_ value: String, to path: String) throws(CgroupError) {
        let fd = retryingEINTR { open(path, O_WRONLY | O_TRUNC | O_CLOEXEC) }
        if fd < 0 { throw .write(path: path, value: value, errno: errno) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let written = bytes.withUnsafeBytes { buffer in
            retryingEINTR { Glibc.write(fd, buffer.baseAddress, buffer.count) }
        }
        if written < 0 { throw .write(path: path, value: value, errno: errno) }
        if written != bytes.count { throw .write(path: path, value: value, errno: EIO) }
        trace?.record(path: path, value: value)
    }

    /// Reads a whole (small) cgroup file.
    func read(_ path: String) throws(CgroupError) -> String {
        let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        if fd < 0 { throw .read(path: path, errno: errno) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                retryingEINTR { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            if count < 0 { throw .read(path: path, errno: errno) }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Reads a file, or nil when it does not exist (an optional kernel feature).
    func readIfPresent(_ path: String) throws(CgroupError) -> String? {
        do {
            return try read(path)
        } catch {
            if case .read(_, let err) = error, err == ENOENT { return nil }
            throw error
        }
    }

    /// Reads a file holding one unsigned number (`pids.current`, `cpuacct.usage`).
    func readUInt64(_ path: String) throws(CgroupError) -> UInt64 {
        let text = try read(path).trimmingWhitespace()
        guard let value = UInt64(text) else {
            throw .parse(path: path, detail: "expected a number, found \"\(text)\"")
        }
        return value
    }

    /// Reads `key value` lines (`memory.stat`, `cpu.stat`, `memory.events`, `memory.oom_control`).
    func readKeyedValues(_ path: String) throws(CgroupError) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in try read(path).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let value = UInt64(fields[1]) {
                values[String(fields[0])] = value
            }
        }
        return values
    }

    /// Creates `path` and any missing parents up to (not including) `root`, which must exist.
    func makeDirectories(root: String, components: [String]) throws(CgroupError) {
        var current = root
        for component in components {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw .mkdir(path: current, errno: errno)
            }
        }
    }

    func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The names of the directories directly inside `path` (child cgroups).
    func childDirectories(_ path: String) throws(CgroupError) -> [String] {
        guard let dir = opendir(path) else { throw .listDirectory(path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let type = entry.pointee.d_type
            if type == UInt8(DT_DIR) || (type == UInt8(DT_UNKNOWN) && isDirectory(path + "/" + name)) {
                names.append(name)
            }
        }
        return names.sorted()
    }

    /// `path` and every cgroup below it, deepest first (the order rmdir needs).
    /// A missing `path` gives an empty list.
    func subtreeBottomUp(_ path: String) throws(CgroupError) -> [String] {
        guard isDirectory(path) else { return [] }
        var result: [String] = []
        for child in try childDirectories(path) {
            result += try subtreeBottomUp(path + "/" + child)
        }
        result.append(path)
        return result
    }

    /// The pids listed in `cgroup.procs` of `path` and of every cgroup below it.
    func processesInSubtree(_ path: String) throws(CgroupError) -> [Int32] {
        var pids: [Int32] = []
        for dir in try subtreeBottomUp(path) {
            guard let text = try readIfPresent(dir + "/cgroup.procs") else { continue }
            pids += text.split(separator: "\n").compactMap { Int32($0.trimmingWhitespace()) }
        }
        return pids
    }

    /// Removes `path` and everything below it, children first. cgroupfs reports EBUSY while
    /// exiting processes are still charged to a group, so EBUSY is retried until `deadline`.
    func removeSubtree(_ path: String, deadline: MonotonicDeadline) throws(CgroupError) {
        for dir in try subtreeBottomUp(path) {
            while Glibc.rmdir(dir) != 0 {
                let err = errno
                if err == ENOENT { break }
                if err == EINTR { continue }
                if err == EBUSY && !deadline.hasPassed {
                    MonotonicDeadline.sleep(milliseconds: 10)
                    continue
                }
                throw .rmdir(path: dir, errno: err)
            }
        }
    }
}

/// The writes a manager made, in order, for tests that assert exact files and values.
final class WriteTrace: Sendable {
    private let entries = Mutex<[(path: String, value: String)]>([])

    func record(path: String, value: String) {
        entries.withLock { $0.append((path, value)) }
    }

    /// All writes so far as `(path, value)`.
    var writes: [(path: String, value: String)] {
        entries.withLock { $0 }
    }

    /// The values written to paths ending in `suffix`, in order.
    func values(forPathsEndingIn suffix: String) -> [String] {
        writes.filter { $0.path.hasSuffix(suffix) }.map(\.value)
    }
}

/// A point in CLOCK_MONOTONIC time, for the short bounded waits (EBUSY retries, freezer
/// state, processes dying) that cgroup operations need.
struct MonotonicDeadline: Sendable {
    private let nanos: UInt64

    init(millisecondsFromNow ms: UInt64) {
        nanos = Self.now() + ms * 1_000_000
    }

    var hasPassed: Bool { Self.now() >= nanos }

    static func sleep(milliseconds ms: UInt32) {
        usleep(ms * 1000)
    }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Retries a syscall that failed with EINTR.
@inline(__always)
func retryingEINTR<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result >= 0 || errno != EINTR { return result }
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
