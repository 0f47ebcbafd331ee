/// Host names as the route table compares them.
enum HostName {
    /// The host of a Host header or HTTP/2 :authority, lowercased, without port or trailing dot
    /// (Kubernetes' `host` never has a port: "the port is ignored" in host matching).
    static func normalize(_ header: Substring) -> String {
        var host = header
        if host.utf8.first == UInt8(ascii: "[") {
            // An IPv6 literal: "[::1]:8080".
            if let close = host.utf8.firstIndex(of: UInt8(ascii: "]")) {
                host = host[...close]
            }
        } else if let colon = host.utf8.lastIndex(of: UInt8(ascii: ":")) {
            host = host[..<colon]
        }
        while host.utf8.last == UInt8(ascii: ".") { host = host.dropLast() }
        if host.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
            return host.lowercased()
        }
        return String(host)
    }

    /// The part of a host after its first label ("foo.com" for "bar.foo.com"), which a wildcard
    /// rule "*.foo.com" is filed under: Kubernetes' wildcards match exactly one label, so
    /// "baz.bar.foo.com" and "foo.com" itself do not match "*.foo.com".
    static func wildcardParent(_ host: String) -> Substring? {
        guard let dot = host.utf8.firstIndex(of: UInt8(ascii: ".")), dot != host.utf8.startIndex else { return nil }
        let parent = host[host.utf8.index(after: dot)...]
        return parent.isEmpty ? nil : Substring(parent)
    }
}
