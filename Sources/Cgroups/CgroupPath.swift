/// A validated relative cgroup path (`swiftlet/pod<uid>/<container>`).
///
/// Groups come from pod UIDs and container names, so they are checked before they become
/// directory names: no absolute paths, no `..` escaping the hierarchy, no empty components.
struct CgroupPath: Sendable, Equatable {
    /// The plain names, outermost first.
    let components: [String]

    init(_ group: String) throws(CgroupError) {
        if group.hasPrefix("/") {
            throw .invalidGroup(group, reason: "it is absolute")
        }
        var trimmed = Substring(group)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if trimmed.isEmpty {
            throw .invalidGroup(group, reason: "it is empty")
        }
        for part in parts {
            if part.isEmpty { throw .invalidGroup(group, reason: "it has an empty component") }
            if part == "." || part == ".." { throw .invalidGroup(group, reason: "it contains \"\(part)\"") }
            if part.contains("\0") || part.contains("\n") {
                throw .invalidGroup(group, reason: "it contains a NUL or newline")
            }
        }
        components = parts
    }

    /// The path relative to a hierarchy root.
    var relative: String { components.joined(separator: "/") }

    /// The directory of this group in the hierarchy mounted at `root`.
    func directory(in root: String) -> String {
        root + "/" + relative
    }
}
