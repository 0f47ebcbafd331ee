import CShims
import NIOCore

/// SPDY/3 header blocks: name/value pairs (32-bit counts and lengths; several values of one
/// name joined by NUL), zlib-compressed with the protocol's dictionary, one zlib stream per
/// direction for the whole session. Names are lowercase on the wire; kept lowercase here.
/// Not thread-safe: the session keeps each codec behind its lock.
public final class SPDYHeaderCodec {
    /// The most a decompressed block may hold (Kubernetes' blocks are a few hundred bytes).
    public static let maxBlock = 64 * 1024
    static let maxPairs = 1024

    private let inflater: OpaquePointer
    private let deflater: OpaquePointer

    public init() throws(SPDYProtocolError) {
        guard let inflater = sl_spdy_zlib_new(0) else { throw SPDYProtocolError("zlib: cannot allocate a decompressor") }
        guard let deflater = sl_spdy_zlib_new(1) else {
            sl_spdy_zlib_free(inflater)
            throw SPDYProtocolError("zlib: cannot allocate a compressor")
        }
        self.inflater = inflater
        self.deflater = deflater
    }

    deinit {
        sl_spdy_zlib_free(inflater)
        sl_spdy_zlib_free(deflater)
    }

    /// The pairs of a received block, in order.
    public func decode(_ block: ByteBuffer) throws(SPDYProtocolError) -> [(name: String, value: String)] {
        var output = [UInt8](repeating: 0, count: Self.maxBlock)
        let length = block.withUnsafeReadableBytes { input in
            output.withUnsafeMutableBufferPointer { out in
                sl_spdy_inflate(inflater, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count, out.baseAddress, out.count)
            }
        }
        guard length >= 0 else {
            throw SPDYProtocolError(length == SL_SPDY_ZLIB_TOO_LARGE ? "a header block larger than \(Self.maxBlock) bytes"
                                    : "a header block that does not decompress with the SPDY/3 dictionary")
        }
        return try Self.parse(ByteBuffer(bytes: output[0..<length]))
    }

    /// The uncompressed name/value block.
    static func parse(_ plain: ByteBuffer) throws(SPDYProtocolError) -> [(name: String, value: String)] {
        var plain = plain
        guard let count = plain.readInteger(as: UInt32.self) else { throw SPDYProtocolError("a header block without its pair count") }
        guard count <= maxPairs else { throw SPDYProtocolError("a header block of \(count) pairs") }
        var pairs: [(name: String, value: String)] = []
        for _ in 0..<count {
            guard let nameLength = plain.readInteger(as: UInt32.self), let name = plain.readString(length: Int(nameLength)),
                  let valueLength = plain.readInteger(as: UInt32.self), let value = plain.readString(length: Int(valueLength)) else {
                throw SPDYProtocolError("a header block shorter than its lengths say")
            }
            guard !name.isEmpty else { throw SPDYProtocolError("a header with an empty name") }
            for part in value.split(separator: "\0", omittingEmptySubsequences: false) {
                pairs.append((name.lowercased(), String(part)))
            }
        }
        return pairs
    }

    /// A block to send, compressed.
    public func encode(_ pairs: [(name: String, value: String)]) throws(SPDYProtocolError) -> ByteBuffer {
        let plain = Self.serialize(pairs)
        let bound = sl_spdy_deflate_bound(plain.readableBytes)
        var output = [UInt8](repeating: 0, count: bound)
        let length = plain.withUnsafeReadableBytes { input in
            output.withUnsafeMutableBufferPointer { out in
                sl_spdy_deflate(deflater, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count, out.baseAddress, out.count)
            }
        }
        guard length >= 0 else { throw SPDYProtocolError("zlib: compressing a header block failed") }
        return ByteBuffer(bytes: output[0..<length])
    }

    /// The uncompressed form: values of one name are joined by NUL.
    static func serialize(_ pairs: [(name: String, value: String)]) -> ByteBuffer {
        var grouped: [(String, [String])] = []
        for (name, value) in pairs {
            let lower = name.lowercased()
            if let index = grouped.firstIndex(where: { $0.0 == lower }) { grouped[index].1.append(value) } else { grouped.append((lower, [value])) }
        }
        var plain = ByteBuffer()
        plain.writeInteger(UInt32(grouped.count))
        for (name, values) in grouped {
            let value = values.joined(separator: "\0")
            plain.writeInteger(UInt32(name.utf8.count))
            plain.writeString(name)
            plain.writeInteger(UInt32(value.utf8.count))
            plain.writeString(value)
        }
        return plain
    }
}
