import Foundation

/// An API server's base URL in one spelling, `https://host:port` (IPv6 in brackets, host in
/// lower case, the port always written), so that the `--server` a node joined and the
/// addresses learned from the `default/kubernetes` Endpoints compare equal.
///
/// Anything else is refused: another scheme, a path, a query, credentials in the URL, a host
/// with characters no IP address or DNS name has. The pool reads these from a file and from
/// the API, and a URL is where a request's bearer token goes.
enum ServerAddress {
    /// Longer than any real `https://host:port`; keeps a hostile list cheap to refuse.
    static let maximumLength = 300

    /// `text` in canonical form, or nil when it is not an `https://host[:port][/]` URL.
    static func normalize(_ text: String) -> String? {
        guard text.utf8.count <= maximumLength,
              let components = URLComponents(string: text),
              components.scheme?.lowercased() == "https",
              components.user == nil, components.password == nil,
              components.query == nil, components.fragment == nil,
              components.path.isEmpty || components.path == "/",
              let host = components.host else { return nil }
        let port = components.port ?? 443
        guard (1...65535).contains(port) else { return nil }
        return url(host: host, port: port)
    }

    /// `https://host:port` for an address of the Endpoints (an IP) or a host name; nil when
    /// `host` is neither.
    static func url(host: String, port: Int) -> String? {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, host.utf8.count <= 253, (1...65535).contains(port) else { return nil }
        if host.contains(":") {
            // IPv6: hex digits, colons, and the dots of an embedded IPv4 address.
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            return "https://[\(host)]:\(port)"
        }
        // IPv4 or a DNS name: letters, digits, hyphens and dots, no empty label.
        guard host.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." }),
              !host.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else { return nil }
        return "https://\(host):\(port)"
    }
}
