/// The path of a request as the route table matches it, and the path rules of Ingresses.
///
/// Requests are matched on their path normalised as nginx does before it matches locations
/// (ngx_http_parse_complex_uri): percent-escapes decoded, repeated slashes merged, "." and ".."
/// segments resolved; the request goes to the backend unchanged, as ingress-nginx's
/// `proxy_pass http://upstream_balancer;` passes it. Matching the raw path instead would let
/// "/public/../admin" reach a backend through the rule for "/public".
enum RequestPath {
    /// The normalised path of a request target, or nil when the target is not a path nginx would
    /// accept (no leading "/", a bad or NUL escape, ".." above the root): a 400.
    static func normalize(_ target: String) -> Substring? {
        var path = Substring(target)
        // The absolute form ("http://host/path") that a client may send to a proxy.
        if path.utf8.first != UInt8(ascii: "/") {
            guard let afterScheme = afterSchemeSeparator(path) else { return nil }
            guard let slash = afterScheme.utf8.firstIndex(of: UInt8(ascii: "/")) else { return "/" }
            path = afterScheme[slash...]
        }
        if let end = path.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            path = path[..<end]
        }
        if !needsWork(path.utf8) { return path }
        return slowNormalize(path)
    }

    /// What follows "://" in an absolute-form target ("http://host/path"), or nil.
    private static func afterSchemeSeparator(_ target: Substring) -> Substring? {
        let bytes = target.utf8
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") {
                let rest = bytes[bytes.index(after: index)...]
                guard rest.starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]) else { return nil }
                return Substring(rest.dropFirst(2))
            }
            // A scheme is letters, digits, "+", "-", "." (RFC 3986 §3.1).
            let isSchemeByte = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: ".")
            guard isSchemeByte else { return nil }
            index = bytes.index(after: index)
        }
        return nil
    }

    /// Whether a path has an escape, a doubled slash or a dot segment to resolve (the fast path
    /// keeps the common request free of allocations).
    private static func needsWork(_ bytes: Substring.UTF8View) -> Bool {
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == UInt8(ascii: "%") { return true }
            if byte == UInt8(ascii: "/"), previous == UInt8(ascii: "/") { return true }
            if byte == UInt8(ascii: "."), previous == UInt8(ascii: "/") { return true }
            previous = byte
        }
        return false
    }

    private static func slowNormalize(_ path: Substring) -> Substring? {
        // Decode escapes first (nginx decodes before it resolves segments, so "%2e%2e" is "..").
        var decoded: [UInt8] = []
        decoded.reserveCapacity(path.utf8.count)
        var iterator = path.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                decoded.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            let value = high << 4 | low
            guard value != 0 else { return nil }
            decoded.append(value)
        }
        var segments: [ArraySlice<UInt8>] = []
        // "/a/." and "/a/b/.." name a directory: the result keeps a trailing slash, as nginx's does.
        var trailingSlash = false
        for segment in decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            trailingSlash = false
            if segment.elementsEqual([UInt8(ascii: ".")]) {
                trailingSlash = true
                continue
            }
            if segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                guard !segments.isEmpty else { return nil }
                segments.removeLast()
                trailingSlash = true
                continue
            }
            segments.append(segment)
        }
        if decoded.last == UInt8(ascii: "/") { trailingSlash = true }
        var result: [UInt8] = [UInt8(ascii: "/")]
        for (index, segment) in segments.enumerated() {
            if index > 0 { result.append(UInt8(ascii: "/")) }
            result.append(contentsOf: segment)
        }
        if trailingSlash, !segments.isEmpty { result.append(UInt8(ascii: "/")) }
        return Substring(String(decoding: result, as: UTF8.self))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The form of a Prefix rule's path that matching compares: trailing slashes dropped
    /// ("/foo/" and "/foo" are the same rule, Kubernetes' table: "ignores trailing slash"), and
    /// "" for "/" (matches everything).
    static func prefixKey(_ rulePath: String) -> String {
        var utf8 = Substring(rulePath).utf8
        while utf8.last == UInt8(ascii: "/") { utf8 = utf8.dropLast() }
        return String(Substring(utf8))
    }

    /// Whether a Prefix rule (its `prefixKey`) matches a normalised request path, element by
    /// element: "/foo" matches "/foo", "/foo/" and "/foo/bar", not "/foobar".
    @inline(__always)
    static func prefix(_ key: String, matches path: Substring) -> Bool {
        let keyBytes = key.utf8
        let pathBytes = path.utf8
        guard pathBytes.count >= keyBytes.count, pathBytes.starts(with: keyBytes) else { return false }
        if pathBytes.count == keyBytes.count { return true }
        return pathBytes[pathBytes.index(pathBytes.startIndex, offsetBy: keyBytes.count)] == UInt8(ascii: "/")
    }
}
