/// An OCI content descriptor: what a blob is, its digest and size.
/// See https://github.com/opencontainers/image-spec/blob/main/descriptor.md
package struct OCIDescriptor: Codable, Sendable, Equatable {
    package var mediaType: String
    package var digest: Digest
    package var size: Int64
    package var annotations: [String: String]?
    package var platform: OCIPlatform?

    package init(
        mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil,
        platform: OCIPlatform? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Early OCI layouts omit mediaType in index entries; "" makes the importer sniff the blob.
        mediaType = try c.decodeIfPresent(String.self, forKey: .mediaType) ?? ""
        digest = try c.decode(Digest.self, forKey: .digest)
        size = try c.decode(Int64.self, forKey: .size)
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
        platform = try c.decodeIfPresent(OCIPlatform.self, forKey: .platform)
    }

    /// The `org.opencontainers.image.ref.name` annotation: a full reference or just a tag.
    package var refName: String? { annotations?["org.opencontainers.image.ref.name"] }
}

/// The platform of a manifest in an index.
package struct OCIPlatform: Codable, Sendable, Equatable {
    package var architecture: String
    package var os: String
    package var variant: String?

    package init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    package var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
}
