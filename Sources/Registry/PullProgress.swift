import Images

/// What a pull reports while it runs, for `swiftlet images pull`'s display.
public enum PullProgress: Sendable {
    /// The reference resolved on `endpoint` to the digest of what the tag names, and the
    /// platform manifest's layers are known (digest and compressed size, bottom to top).
    case resolved(endpoint: String, digest: Digest, layers: [(digest: Digest, size: Int64)])
    /// Bytes of a layer received so far.
    case downloading(layer: Digest, received: Int64, total: Int64)
    /// A layer is in the store: downloaded now, or `cached` from before.
    case downloaded(layer: Digest, cached: Bool)
    /// A layer's unpacking began, and ended.
    case unpacking(layer: Digest)
    case unpacked(layer: Digest)
}

/// The result of a pull.
public struct PulledImage: Sendable {
    /// The image as stored, with its names (the tag and the repo digest).
    public var image: Image
    /// `name@sha256:…` of what the reference resolved to (an index's digest for multi-platform
    /// images): what kubelet reports as the container's `imageID`.
    public var repoDigest: String
    /// Bytes downloaded by this pull (0 when every blob was in the store already).
    public var downloadedBytes: Int64
    /// The endpoint that answered (a mirror's URL, or the registry's).
    public var endpoint: String
}
