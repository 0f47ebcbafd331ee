import CShims

/// Streaming gunzip over another `ByteSource`, with zlib's inflate.
///
/// Concatenated gzip members are decoded one after another (what `gzip -d` does); bytes after
/// the last member that do not start a new member (zero padding some tools add) are ignored.
final class GzipSource: ByteSource {
    private let upstream: any ByteSource
    private let description: String
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var memberEnded = false
    private var finished = false

    /// - Parameter description: what is being decompressed, for error messages (a blob path).
    init(_ upstream: any ByteSource, description: String) throws {
        self.upstream = upstream
        self.description = description
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        // 16 + MAX_WBITS: expect a gzip header and trailer (not a raw or zlib stream).
        let status = inflateInit2_(stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            input.deallocate()
            stream.deallocate()
            throw ImageError.invalidGzip("\(description): inflateInit2 failed with status \(status)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let out = buffer.baseAddress, buffer.count > 0 else { return 0 }
        stream.pointee.next_out = out.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(min(buffer.count, Int(UInt32.max)))
        let capacity = Int(stream.pointee.avail_out)
        while Int(stream.pointee.avail_out) == capacity {
            if memberEnded {
                // Another member follows only if the next byte is gzip's first magic byte.
                if try stream.pointee.avail_in == 0 && !refill() {
                    finished = true
                    break
                }
                guard let next = stream.pointee.next_in, next.pointee == 0x1f else {
                    finished = true
                    break
                }
                inflateReset(stream)
                memberEnded = false
            }
            if try stream.pointee.avail_in == 0 && !refill() {
                throw ImageError.invalidGzip("\(description): unexpected end of data (truncated file?)")
            }
            let status = inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_STREAM_END:
                memberEnded = true
            case Z_OK, Z_BUF_ERROR:
                continue
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                throw ImageError.invalidGzip("\(description): \(message)")
            }
        }
        return capacity - Int(stream.pointee.avail_out)
    }

    /// Reads more compressed input; false at the end of the upstream.
    private func refill() throws -> Bool {
        let n = try upstream.read(into: input)
        guard n > 0, let base = input.baseAddress else { return false }
        stream.pointee.next_in = base.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(n)
        return true
    }
}
