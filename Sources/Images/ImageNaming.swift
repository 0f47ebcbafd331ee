/// Which references an imported image gets, from the archive's own names and the optional
/// name given to the import.
///
/// OCI layouts name images with the `org.opencontainers.image.ref.name` annotation, which is
/// either a full reference or only a tag (image-spec annotations.md); containerd and docker
/// additionally write the full name to `io.containerd.image.name`. Docker archives list
/// `RepoTags` in familiar form (`busybox:latest`).
/// A given name overrides the archive's: with a tag it is used as is, without one it takes
/// the archive's tag (`name` "myapp" + ref.name "1.0" → myapp:1.0), else `latest`.
enum ImageNaming {
    static func names(annotations: [String: String]?, override: String?, origin: String) throws -> [String] {
        var annotated: ImageReference?
        var tagOnly: String?
        if let full = annotations?["io.containerd.image.name"] {
            annotated = try ImageReference(parsing: full)
        } else if let refName = annotations?["org.opencontainers.image.ref.name"] {
            if ImageReference.isValidTag(refName) {
                tagOnly = refName
            } else {
                annotated = try ImageReference(parsing: refName)
            }
        }
        if let override {
            return [try apply(override, tag: tagOnly ?? annotated?.tag)]
        }
        if let annotated { return [annotated.normalized] }
        if let tagOnly {
            throw ImageError.invalidArchive(
                path: origin,
                reason: "the image is named only by the tag \"\(tagOnly)\" (org.opencontainers.image.ref.name); "
                    + "give a repository name to import it under")
        }
        return []
    }

    static func names(repoTags: [String], override: String?) throws -> [String] {
        let tags = try repoTags.map { try ImageReference(parsing: $0) }
        guard let override else { return tags.map(\.normalized) }
        let given = try ImageReference(parsing: override)
        if given.tag != nil || given.digest != nil || tags.isEmpty { return [given.normalized] }
        return try tags.map { try apply(override, tag: $0.tag) }
    }

    /// `override` with `tag` when it has no tag or digest of its own.
    private static func apply(_ override: String, tag: String?) throws -> String {
        let given = try ImageReference(parsing: override)
        if given.tag != nil || given.digest != nil { return given.normalized }
        guard let tag else { return given.normalized }
        return try ImageReference(parsing: given.name + ":" + tag).normalized
    }
}
