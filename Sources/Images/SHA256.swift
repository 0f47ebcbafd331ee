import CShims

/// Streaming SHA-256 (FIPS 180-4), the digest of every blob in the image store.
///
/// The work is done by OpenSSL's libcrypto (CShims/sha256.c), which uses the CPU's SHA
/// instructions where it has them: layer digests and diffIDs are computed while pulling and
/// unpacking, so hashing speed is pull speed. An earlier pure-Swift version ran at a fraction of
/// the speed, and in debug builds slowly enough to stall the tests for tens of seconds.
public struct SHA256: Sendable {
    private var context = sl_sha256_ctx()

    /// A hasher with the initial state.
    public init() {
        sl_sha256_init(&context)
    }

    /// Hashes `bytes` in one call and returns the 32-byte digest.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(Array(bytes))
        return hasher.finalize()
    }

    /// Feeds `bytes` into the hash.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds raw memory into the hash; the fast path used for streamed blobs.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        sl_sha256_update(&context, base, buffer.count)
    }

    /// Pads the message and returns the 32-byte digest. The hasher must not be used afterwards.
    public mutating func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            guard let out = buffer.baseAddress else { return }
            sl_sha256_final(&context, out)
            count = 32
        }
    }
}
