/// One etcd client URL, as `--datastore-endpoint` lists them (k3s' flag:
/// `https://10.0.0.1:2379,https://10.0.0.2:2379`).
public struct EtcdEndpoint: Sendable, Equatable, CustomStringConvertible {
    public let usesTLS: Bool
    public let host: String
    public let port: Int

    /// Parses `http://HOST:PORT` or `https://HOST:PORT` (IPv6 hosts in brackets; the port
    /// defaults to etcd's 2379). Paths, users and queries are refused: etcd has none.
    public init(_ text: String) throws(EtcdConfigurationError) {
        let scheme: String
        let rest: Substring
        if text.hasPrefix("https://") {
            scheme = "https"; rest = text.dropFirst(8)
        } else if text.hasPrefix("http://") {
            scheme = "http"; rest = text.dropFirst(7)
        } else {
            throw EtcdConfigurationError("etcd endpoint \"\(text)\": expected http://HOST:PORT or https://HOST:PORT")
        }
        var authority = rest
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@"), !authority.contains("?") else {
            throw EtcdConfigurationError("etcd endpoint \"\(text)\": only a host and a port may follow the scheme")
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw EtcdConfigurationError("etcd endpoint \"\(text)\": unterminated IPv6 address")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw EtcdConfigurationError("etcd endpoint \"\(text)\": junk after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-_:".contains($0) }) else {
            throw EtcdConfigurationError("etcd endpoint \"\(text)\": \"\(host)\" is not a host name or address")
        }
        var port = 2379
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw EtcdConfigurationError("etcd endpoint \"\(text)\": port \"\(portText)\" is not a number from 1 to 65535")
            }
            port = value
        }
        self.usesTLS = scheme == "https"
        self.host = String(host)
        self.port = port
    }

    /// A comma-separated list, as the flag takes it.
    public static func list(_ text: String) throws(EtcdConfigurationError) -> [EtcdEndpoint] {
        var endpoints: [EtcdEndpoint] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingCharacters(in: " ")
            guard !trimmed.isEmpty else { throw EtcdConfigurationError("etcd endpoints \"\(text)\": an empty entry") }
            endpoints.append(try EtcdEndpoint(trimmed))
        }
        guard !endpoints.isEmpty else { throw EtcdConfigurationError("no etcd endpoint given") }
        return endpoints
    }

    var hostIsIPAddress: Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// `:authority` of requests.
    var authority: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public var description: String {
        "\(usesTLS ? "https" : "http")://\(authority)"
    }
}

/// A datastore setting that cannot work, with what to change.
public struct EtcdConfigurationError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
