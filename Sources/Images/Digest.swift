/// A validated content digest, `sha256:<64 lowercase hex>`.
///
/// OCI allows other algorithms (sha512, blake3), but every registry and runtime in practice
/// uses sha256 and the store is addressed by it, so other algorithms are rejected with an error
/// that says so instead of being carried around unverifiable.
/// See https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The 64 lowercase hex characters after `sha256:`.
    public let hex: String

    /// Parses and validates `sha256:<64 lowercase hex>`.
    public init(parsing string: String) throws {
        guard let colon = string.firstIndex(of: ":") else {
            throw ImageError.invalidDigest(string, reason: "expected sha256:<64 lowercase hex digits>")
        }
        let algorithm = string[..<colon]
        guard algorithm == "sha256" else {
            throw ImageError.invalidDigest(
                string, reason: "unsupported digest algorithm \"\(algorithm)\"; only sha256 is supported")
        }
        try self.init(hex: String(string[string.index(after: colon)...]))
    }

    /// Validates a bare sha256 hex string (the form used in blob paths and layer directories).
    public init(hex: String) throws {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy(Digest.isLowerHex) else {
            throw ImageError.invalidDigest(
                "sha256:" + hex, reason: "the sha256 value must be exactly 64 lowercase hex digits")
        }
        self.hex = hex
    }

    /// The digest of a 32-byte SHA-256 output.
    init(sha256 bytes: [UInt8]) {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        hex = String(decoding: out, as: UTF8.self)
    }

    /// The digest of `bytes` (hashes them).
    public static func of(_ bytes: some Sequence<UInt8>) -> Digest {
        Digest(sha256: SHA256.hash(bytes))
    }

    /// `sha256:<hex>`.
    public var description: String { "sha256:" + hex }

    /// The first 12 hex characters, as `docker images` and `crictl images` show IDs.
    public var shortID: String { String(hex.prefix(12)) }

    /// Orders by hex value, for stable listings.
    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }

    /// Decodes from the `sha256:<hex>` string form, validating it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: container.decode(String.self))
    }

    /// Encodes as the `sha256:<hex>` string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    static func isLowerHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
    }
}
