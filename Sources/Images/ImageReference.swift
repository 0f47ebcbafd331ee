/// An image reference parsed and normalized the way docker, containerd and kubelet do it.
///
/// Matches docker/distribution `reference.ParseNormalizedNamed`
/// (https://github.com/distribution/reference/blob/main/normalize.go):
///
///     reference  := name [ ":" tag ] [ "@" digest ]
///     name       := [domain "/"] path-component ["/" path-component]*
///     domain     := host [":" port]     host: DNS labels, IPv4, or [IPv6]
///     tag        := [\w][\w.-]{0,127}
///
/// A first component is a registry domain when it contains `.` or `:`, is `localhost`, or has
/// uppercase letters; otherwise the image is on Docker Hub (`docker.io`), and a single-component
/// Hub name gets the `library/` namespace. `index.docker.io` is canonicalized to `docker.io`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// The registry, e.g. `docker.io`, `localhost:5000`, `[fc00::1]:5000`.
    public var domain: String
    /// The repository path inside the registry, e.g. `library/busybox`.
    public var path: String
    /// The tag as written (nil when the reference has none; see `normalized` for the default).
    public var tag: String?
    /// The manifest digest, when the reference pins one.
    public var digest: Digest?

    static let defaultDomain = "docker.io"
    static let legacyDefaultDomain = "index.docker.io"
    static let officialRepoPrefix = "library/"
    static let defaultTag = "latest"
    /// Longest repository path accepted (distribution's `RepositoryNameTotalLengthMax`).
    static let maxPathLength = 255

    /// Parses a reference such as `busybox`, `user/app:1`, `localhost:5000/x`,
    /// `registry.example.com:5000/ns/app@sha256:…` or `app:tag@sha256:…`.
    public init(parsing input: String) throws {
        // A bare 64-hex string is an image ID, never a name (distribution refuses it too).
        if input.utf8.count == 64, input.utf8.allSatisfy(Digest.isLowerHex) {
            throw ImageError.invalidReference(
                input, reason: "repository name cannot be a 64-byte hexadecimal string (that is an image ID)")
        }
        guard !input.isEmpty else {
            throw ImageError.invalidReference(input, reason: "repository name must have at least one component")
        }
        let (domain, remainder) = ImageReference.splitDockerDomain(input)
        let remote = remainder.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
        if remote.lowercased() != remote {
            throw ImageError.invalidReference(input, reason: "repository name must be lowercase")
        }

        // Split off "@digest", then ":tag" (a colon after the last slash; earlier colons are a port).
        var namePart = Substring(remainder)
        var digest: Digest?
        if let at = namePart.firstIndex(of: "@") {
            let digestString = String(namePart[namePart.index(after: at)...])
            guard ImageReference.matchesDigestPattern(digestString) else {
                throw ImageError.invalidReference(input, reason: "invalid digest \"\(digestString)\"")
            }
            digest = try Digest(parsing: digestString)
            namePart = namePart[..<at]
        }
        var tag: String?
        if let colon = namePart.lastIndex(of: ":"),
            namePart.lastIndex(of: "/").map({ $0 < colon }) ?? true
        {
            let tagString = String(namePart[namePart.index(after: colon)...])
            guard ImageReference.isValidTag(tagString) else {
                throw ImageError.invalidReference(input, reason: "invalid tag \"\(tagString)\"")
            }
            tag = tagString
            namePart = namePart[..<colon]
        }
        let path = String(namePart)
        guard ImageReference.isValidDomain(domain), ImageReference.isValidPath(path) else {
            // Distribution reports uppercase separately when lowercasing would have parsed.
            if ImageReference.isValidDomain(domain.lowercased()), ImageReference.isValidPath(path.lowercased()) {
                throw ImageError.invalidReference(input, reason: "repository name must be lowercase")
            }
            throw ImageError.invalidReference(input, reason: "not a valid image name")
        }
        guard path.utf8.count <= ImageReference.maxPathLength else {
            throw ImageError.invalidReference(
                input, reason: "repository name must not be more than \(ImageReference.maxPathLength) characters")
        }
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    /// `domain/path`, without tag or digest.
    public var name: String { domain + "/" + path }

    /// The fully qualified form kubelet and containerd store images under
    /// (distribution `ParseDockerRef`): `docker.io/library/busybox:latest`. A missing tag
    /// becomes `latest` unless a digest is given; with both a tag and a digest the digest wins
    /// and the tag is dropped, as the digest alone identifies the content.
    public var normalized: String {
        if let digest { return name + "@" + digest.description }
        return name + ":" + (tag ?? ImageReference.defaultTag)
    }

    /// The short form docker and crictl display: `busybox:latest`, `user/app:1`,
    /// `localhost:5000/x:latest` (Docker Hub's domain and `library/` namespace are dropped).
    public var familiar: String {
        var shortName = name
        if domain == ImageReference.defaultDomain {
            shortName = path
            if path.hasPrefix(ImageReference.officialRepoPrefix) {
                let rest = path.dropFirst(ImageReference.officialRepoPrefix.count)
                if !rest.contains("/") { shortName = String(rest) }
            }
        }
        if let digest { return shortName + "@" + digest.description }
        return shortName + ":" + (tag ?? ImageReference.defaultTag)
    }

    /// The normalized form.
    public var description: String { normalized }

    // MARK: - Grammar

    /// distribution's `splitDockerDomain`: decides whether the first component is a registry.
    static func splitDockerDomain(_ name: String) -> (domain: String, remainder: String) {
        guard let slash = name.firstIndex(of: "/") else {
            return (defaultDomain, officialRepoPrefix + name)
        }
        let first = String(name[..<slash])
        let rest = String(name[name.index(after: slash)...])
        var domain: String
        var remainder: String
        if first == legacyDefaultDomain {
            (domain, remainder) = (defaultDomain, rest)
        } else if first == "localhost" || first.contains(".") || first.contains(":") || first.lowercased() != first {
            // Uppercase is not allowed in paths, so an uppercase first component must be a host.
            (domain, remainder) = (first, rest)
        } else {
            (domain, remainder) = (defaultDomain, name)
        }
        if domain == defaultDomain && !remainder.contains("/") {
            remainder = officialRepoPrefix + remainder
        }
        return (domain, remainder)
    }

    /// `host[:port]` where host is dot-separated DNS-ish labels or a bracketed IPv6 address.
    static func isValidDomain(_ domain: String) -> Bool {
        let bytes = Array(domain.utf8)
        var hostEnd: Int
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1 else { return false }
            let inside = bytes[1..<close]
            guard inside.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") }) else { return false }
            hostEnd = close + 1
        } else {
            hostEnd = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
            let labels = bytes[0..<hostEnd].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            for label in labels {
                guard let first = label.first, let last = label.last, isAlnum(first), isAlnum(last),
                    label.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") })
                else { return false }
            }
        }
        if hostEnd == bytes.count { return true }
        guard bytes[hostEnd] == UInt8(ascii: ":") else { return false }
        let port = bytes[(hostEnd + 1)...]
        return !port.isEmpty && port.allSatisfy(isDigit)
    }

    /// One or more `/`-separated components of `[a-z0-9]+` joined by `.`, `_`, `__` or `-+`.
    static func isValidPath(_ path: String) -> Bool {
        let components = Array(path.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        return components.allSatisfy(isValidPathComponent)
    }

    static func isValidPathComponent(_ component: ArraySlice<UInt8>) -> Bool {
        guard let first = component.first, let last = component.last,
            isLowerAlnum(first), isLowerAlnum(last)
        else { return false }
        var separator: [UInt8] = []
        for c in component {
            if isLowerAlnum(c) {
                if !separator.isEmpty {
                    let valid = separator == [0x2e] || separator == [0x5f] || separator == [0x5f, 0x5f]
                        || separator.allSatisfy { $0 == UInt8(ascii: "-") }
                    guard valid else { return false }
                    separator.removeAll()
                }
            } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") {
                separator.append(c)
            } else {
                return false
            }
        }
        return true
    }

    /// `[\w][\w.-]{0,127}`.
    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= 128, isWord(first) else { return false }
        return bytes.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// distribution's digest pattern: `algorithm(:[[:xdigit:]]{32,})`, algorithm components
    /// `[A-Za-z][A-Za-z0-9]*` joined by `-_+.`.
    static func matchesDigestPattern(_ digest: String) -> Bool {
        let bytes = Array(digest.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return false }
        let encoded = bytes[(colon + 1)...]
        guard encoded.count >= 32, encoded.allSatisfy(isHex) else { return false }
        var expectLetter = true
        for c in bytes[..<colon] {
            if expectLetter {
                guard isLetter(c) else { return false }
                expectLetter = false
            } else if c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") {
                expectLetter = true
            } else if !(isLetter(c) || isDigit(c)) {
                return false
            }
        }
        return !expectLetter
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private static func isLetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) }
    private static func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isLetter(c) }
    private static func isLowerAlnum(_ c: UInt8) -> Bool { isDigit(c) || (c >= 0x61 && c <= 0x7a) }
    private static func isWord(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") }
    private static func isHex(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
}
