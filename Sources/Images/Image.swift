import Foundation

/// An image in the local store: one platform manifest, its configuration, and the names
/// pointing at it.
public struct Image: Sendable, Equatable {
    /// Normalized references (`docker.io/library/busybox:latest`), sorted; empty for an image
    /// imported without a name, which is then reachable by ID only.
    public var references: [String]
    /// The image ID: the digest of its config blob (what `crictl images` shows as IMAGE ID).
    public var id: Digest
    /// The digest of the platform manifest (the "repo digest").
    public var manifestDigest: Digest
    /// Runtime defaults from the image configuration.
    public var config: ImageConfig
    /// Digests of the uncompressed layers, bottom to top (`rootfs.diff_ids`).
    public var diffIDs: [Digest]
    /// Bytes of content: manifest, config and (compressed) layers, as containerd reports it.
    public var size: Int64
    /// The config's `created` time, when it has one.
    public var created: Date?

    /// An image value; the store builds these, tests and fakes may too.
    public init(
        references: [String], id: Digest, manifestDigest: Digest, config: ImageConfig,
        diffIDs: [Digest], size: Int64, created: Date?
    ) {
        self.references = references
        self.id = id
        self.manifestDigest = manifestDigest
        self.config = config
        self.diffIDs = diffIDs
        self.size = size
        self.created = created
    }

    /// The references by tag (`docker.io/library/busybox:latest`).
    public var repoTags: [String] { references.filter { !$0.contains("@") } }

    /// The references by digest a pull recorded (`docker.io/library/busybox@sha256:…`: the
    /// digest the tag pointed to, an index's for a multi-platform image), as containerd lists
    /// an image's RepoDigests.
    public var repoDigests: [String] { references.filter { $0.contains("@") } }
}
