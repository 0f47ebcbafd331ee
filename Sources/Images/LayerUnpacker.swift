/// Unpacks image layers (tar, optionally gzip-compressed) into directories, safely.
///
/// Two modes, differing only in what whiteouts become:
/// - `overlay`: each layer goes into its own empty directory, to be an overlayfs lowerdir.
///   `.wh.NAME` becomes a 0:0 character device `NAME` and `.wh..wh..opq` the xattr
///   `trusted.overlay.opaque=y`, exactly what overlayfs itself writes (and what containerd's
///   overlay snapshotter produces). Needs root when the layer has whiteouts.
/// - `apply`: layers are applied one over another in a single directory, deleting what
///   whiteouts hide; used to flatten an image, and works without root.
/// See https://github.com/opencontainers/image-spec/blob/main/layer.md#whiteouts
public struct LayerUnpacker: Sendable {
    /// How whiteout entries are materialized.
    public enum Mode: Sendable, Equatable {
        /// Whiteouts become overlayfs whiteout devices and opaque xattrs (needs root).
        case overlay
        /// Whiteouts delete what they hide from the directory being written to.
        case apply
    }

    /// The whiteout handling of this unpacker.
    public var mode: Mode

    /// An unpacker writing whiteouts as `mode` says.
    public init(mode: Mode) {
        self.mode = mode
    }

    /// Unpacks the layer file at `archivePath` (plain or gzip tar, detected from its first
    /// bytes) into the existing `directory`, and returns the digest of the uncompressed tar
    /// (the layer's diff ID).
    @discardableResult
    public func unpack(layerAt archivePath: String, into directory: String) throws -> Digest {
        try unpack(LayerUnpacker.openUncompressed(archivePath), into: directory)
    }

    /// Unpacks an uncompressed tar stream; returns its digest.
    func unpack(_ tar: any ByteSource, into directory: String) throws -> Digest {
        let digesting = DigestingSource(tar)
        let reader = TarReader(digesting)
        let writer = try LayerWriter(directory: directory, mode: mode)
        while let entry = try reader.next() {
            try writer.write(entry, from: reader)
        }
        try writer.finish()
        // The diff ID covers the whole stream, end-of-archive blocks and padding included.
        try digesting.drain()
        return digesting.finalize()
    }

    /// The first bytes of a zstd frame (RFC 8878), little-endian 0xFD2FB528.
    static let zstdMagic: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd]

    /// Opens a layer file as an uncompressed tar stream, sniffing the compression from the
    /// magic bytes: media types lie in the wild (docker archives name gzip layers `layer.tar`).
    static func openUncompressed(_ path: String) throws -> any ByteSource {
        let file = try FileSource(path: path)
        let magic = try file.peek(4)
        if magic.starts(with: [0x1f, 0x8b]) {
            return try GzipSource(file, description: path)
        }
        if magic == zstdMagic {
            return try ZstdSource(file, description: path)
        }
        return file
    }
}
