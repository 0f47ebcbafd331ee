import Foundation
import Glibc

/// What kubelet's `/containerLogs` accepts besides the container (v1.PodLogOptions).
public struct LogOptions: Sendable, Equatable {
    /// Keep writing new lines as they are logged.
    public var follow: Bool
    /// Prefix each line with its time (Go's RFC3339Nano) and a space.
    public var timestamps: Bool
    /// Only the last lines of the file (`tailLines`).
    public var tailLines: Int?
    /// Stop after this many bytes of output (`limitBytes`).
    public var limitBytes: Int?
    /// Skip lines logged before this time, in nanoseconds since 1970 (`sinceSeconds`, `sinceTime`).
    public var sinceNanoseconds: Int64?

    public init(follow: Bool = false, timestamps: Bool = false, tailLines: Int? = nil, limitBytes: Int? = nil,
                sinceNanoseconds: Int64? = nil) {
        self.follow = follow
        self.timestamps = timestamps
        self.tailLines = tailLines
        self.limitBytes = limitBytes
        self.sinceNanoseconds = sinceNanoseconds
    }
}

/// Reads a container's CRI log file as kubelet's log reader does (pkg/kubelet/kuberuntime/logs):
/// tail, since, timestamps and a byte limit, and with `follow` keeps reading as the file grows
/// until told to stop or cancelled.
public struct ContainerLogReader: Sendable {
    /// What a follower does at the end of the file.
    public enum FollowStep: Sendable, Equatable {
        /// Wait for more lines in the same file.
        case wait
        /// The container started again: finish this file, then read this one from its start.
        case next(String)
        /// The container will not log again (or its pod is gone): finish this file and stop.
        case stop
    }

    public let options: LogOptions
    /// How often a follower looks for new lines.
    public var pollInterval: Duration = .milliseconds(200)
    /// How often a follower asks `step` whether the container moved on or ended.
    public var stepInterval: Duration = .seconds(1)

    public init(options: LogOptions) {
        self.options = options
    }

    /// Writes the log of `path` through `write`, one call per batch of lines. A missing file
    /// reads as empty (the container has not written yet). With `follow`, `step` is asked at
    /// the end of the file what to do next.
    public func read(path initialPath: String,
                     step: (_ currentPath: String) async -> FollowStep = { _ in .stop },
                     write: (String) async throws -> Void) async throws {
        var file = LogFile(path: initialPath)
        defer { file.close() }
        if let tail = options.tailLines { file.offset = file.tailOffset(lines: tail) }
        var parser = CRILogParser()
        var remaining = options.limitBytes ?? Int.max
        var sinceStep = ContinuousClock.now

        // Reads what the file has now; false once the byte limit is reached.
        func drain() async throws -> Bool {
            while let bytes = file.readChunk() {
                if try await emit(parser.feed(bytes)) == false { return false }
            }
            return true
        }
        func emit(_ lines: [CRILogLine]) async throws -> Bool {
            var output = ""
            for line in lines {
                if let since = options.sinceNanoseconds, let at = line.nanoseconds, at < since { continue }
                output += options.timestamps ? line.goTimestamp + " " + line.text : line.text
            }
            guard !output.isEmpty else { return true }
            if output.utf8.count >= remaining {
                // kubelet's LogWriter writes what fits and stops.
                try await write(String(decoding: output.utf8.prefix(remaining), as: UTF8.self))
                remaining = 0
                return false
            }
            remaining -= output.utf8.count
            try await write(output)
            return true
        }

        guard try await drain() else { return }
        guard options.follow else {
            if let last = parser.flush() { _ = try await emit([last]) }
            return
        }
        while true {
            try await Task.sleep(for: pollInterval)
            guard try await drain() else { return }
            guard ContinuousClock.now - sinceStep >= stepInterval else { continue }
            sinceStep = ContinuousClock.now
            switch await step(file.path) {
            case .wait:
                continue
            case .stop:
                guard try await drain() else { return }
                if let last = parser.flush() { _ = try await emit([last]) }
                return
            case .next(let path):
                guard try await drain() else { return }
                if let last = parser.flush() { guard try await emit([last]) else { return } }
                file.close()
                file = LogFile(path: path)
                parser = CRILogParser()
            }
        }
    }
}

/// An open log file read forward from an offset; opened lazily so a file that does not
/// exist yet is picked up once the container writes it.
struct LogFile {
    let path: String
    var fd: Int32 = -1
    var offset: off_t = 0

    init(path: String) {
        self.path = path
    }

    mutating func open() -> Bool {
        if fd >= 0 { return true }
        fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        return fd >= 0
    }

    /// The next bytes after `offset`, nil at the end of the file.
    mutating func readChunk() -> [UInt8]? {
        guard open() else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
        guard count > 0 else { return nil }
        offset += off_t(count)
        return Array(buffer[0..<count])
    }

    /// Where the last `lines` log lines start: scans back from the end counting records that
    /// end a line (`F`), so a line split into `P` parts counts once; a trailing record without
    /// its newline is not a line yet.
    mutating func tailOffset(lines: Int) -> off_t {
        guard open() else { return 0 }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return 0 }
        guard lines > 0 else { return info.st_size }
        var complete = 0
        // The newline ending the record whose start (the previous newline) is not found yet.
        var pendingEnd: off_t?
        var position = info.st_size
        let chunkSize: off_t = 64 * 1024
        while position > 0 {
            let start = max(0, position - chunkSize)
            var chunk = [UInt8](repeating: 0, count: Int(position - start))
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, start) }
            guard count == chunk.count else { return 0 }
            for index in stride(from: chunk.count - 1, through: 0, by: -1) where chunk[index] == UInt8(ascii: "\n") {
                let newline = start + off_t(index)
                if let end = pendingEnd, isFinal(from: newline + 1, to: end) {
                    complete += 1
                    if complete > lines { return end + 1 }
                }
                pendingEnd = newline
            }
            position = start
        }
        if let end = pendingEnd, isFinal(from: 0, to: end) {
            complete += 1
            if complete > lines { return end + 1 }
        }
        return 0
    }

    /// Whether the record in [start, end) ends its line: its tag (third field) is `F`. The
    /// tag sits within the first bytes, after the timestamp and the stream name.
    func isFinal(from start: off_t, to end: off_t) -> Bool {
        var head = [UInt8](repeating: 0, count: Int(min(end - start, 96)))
        let count = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, start) }
        guard count > 0 else { return false }
        return Self.isFinal(head[0..<count])
    }

    /// Whether a record ends its line (tag `F`, third field).
    static func isFinal(_ record: ArraySlice<UInt8>) -> Bool {
        let fields = record.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        return fields.count >= 3 && fields[2].elementsEqual("F".utf8)
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
