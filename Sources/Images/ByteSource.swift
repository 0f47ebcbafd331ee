#if canImport(Glibc)
import Glibc
#endif

/// A stream of bytes read in chunks: a file, a gunzip of another stream, a hashing tee.
/// Layers are streamed through these so no layer is ever held in memory.
protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 only at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    /// Reads until `buffer` is full or the stream ends; returns the number of bytes read.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var total = 0
        while total < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Reads and discards the rest of the stream; returns how many bytes that was.
    @discardableResult
    func drain() throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try read(into: buffer)
            if n == 0 { return total }
            total += Int64(n)
        }
    }
}

/// A file opened read-only; closed when the source is released.
final class FileSource: ByteSource {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = try Syscall.check("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
    }

    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try Syscall.checkCount("read", path) { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// The first `count` bytes of the file (fewer if it is shorter), without moving the stream.
    func peek(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = try bytes.withUnsafeMutableBytes { raw in
            try Syscall.checkCount("pread", path) { pread(fd, raw.baseAddress, count, 0) }
        }
        return Array(bytes[0..<n])
    }
}

/// Passes bytes through while hashing and counting them.
final class DigestingSource: ByteSource {
    private let upstream: any ByteSource
    private var hasher = SHA256()
    private(set) var byteCount: Int64 = 0

    init(_ upstream: any ByteSource) { self.upstream = upstream }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try upstream.read(into: buffer)
        if n > 0 {
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            byteCount += Int64(n)
        }
        return n
    }

    /// The digest of everything read so far; call once, at the end.
    func finalize() -> Digest { Digest(sha256: hasher.finalize()) }
}
