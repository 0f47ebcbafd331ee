import Foundation
import Glibc

/// An open log file read forward from an offset; opened lazily so a file that does not
/// exist yet is picked up once the container writes it.
struct CRILogFile {
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
