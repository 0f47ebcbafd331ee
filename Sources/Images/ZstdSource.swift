import CShims

/// Streaming zstd decompression over another `ByteSource`, with libzstd's `ZSTD_decompressStream`
/// (the layers of `application/vnd.oci.image.layer.v1.tar+zstd`, which containerd and BuildKit
/// produce with `--compression=zstd`).
///
/// Concatenated frames are decoded one after another, as `zstd -d` does; skippable frames are
/// skipped by libzstd. Input that ends inside a frame is an error, not a short layer.
final class ZstdSource: ByteSource {
    private let upstream: any ByteSource
    private let description: String
    private let stream: OpaquePointer
    private let input: UnsafeMutableRawBufferPointer
    private var inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    /// True between frames: the last call finished a frame (or nothing started yet).
    private var atFrameBoundary = true
    private var finished = false

    /// - Parameter description: what is being decompressed, for error messages (a blob path).
    init(_ upstream: any ByteSource, description: String) throws {
        self.upstream = upstream
        self.description = description
        guard let stream = ZSTD_createDStream() else {
            throw ImageError.invalidZstd("\(description): ZSTD_createDStream failed (out of memory)")
        }
        self.stream = stream
        // Frames may ask for a window up to 2^27 (128 MiB: zstd's default maximum for
        // decoding, ZSTD_WINDOWLOG_LIMIT_DEFAULT); larger ones are refused by libzstd, which
        // bounds the memory a hostile layer can make us allocate.
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(ZSTD_DStreamInSize()), alignment: 16)
    }

    deinit {
        ZSTD_freeDStream(stream)
        input.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let out = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var output = ZSTD_outBuffer(dst: out, size: buffer.count, pos: 0)
        while output.pos == 0 {
            if inBuffer.pos == inBuffer.size {
                let n = try upstream.read(into: input)
                if n == 0 {
                    guard atFrameBoundary else {
                        throw ImageError.invalidZstd("\(description): unexpected end of data (truncated file?)")
                    }
                    finished = true
                    return 0
                }
                inBuffer = ZSTD_inBuffer(src: UnsafeRawPointer(input.baseAddress), size: n, pos: 0)
            }
            let hint = ZSTD_decompressStream(stream, &output, &inBuffer)
            if ZSTD_isError(hint) != 0 {
                throw ImageError.invalidZstd("\(description): \(String(cString: ZSTD_getErrorName(hint)))")
            }
            // 0 means a frame was completely decoded and flushed.
            atFrameBoundary = hint == 0
        }
        return output.pos
    }
}
