import Foundation
import Yams

/// Reads the text of a registry file into a `RegistryConfig`, checking every field: a wrong type,
/// an unknown key (a typo such as `endpoints:` would otherwise silently do nothing), an endpoint
/// that is not an http(s) URL, an invalid rewrite pattern or an unreadable certificate file is an
/// error naming the field (`mirrors."docker.io".endpoint[0]: …`).
enum RegistryConfigParser {
    /// Largest file read: real ones are a few hundred bytes.
    static let maxLength = 1 << 20

    static func parse(_ text: String) throws -> RegistryConfig {
        guard text.utf8.count <= maxLength else {
            throw RegistryError(.invalidInput, "larger than \(maxLength) bytes")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw RegistryError(.invalidInput, "not valid YAML: \(error)")
        }
        guard let root else { return .empty }  // an empty file
        if isNull(root) { return .empty }
        let top = try mapping(root, at: "")
        try onlyKeys(top, ["mirrors", "configs"], at: "")
        var config = RegistryConfig()
        if let mirrors = top["mirrors"], !isNull(mirrors) {
            for (name, value) in try mapping(mirrors, at: "mirrors") {
                config.mirrors[name] = try mirror(value, at: "mirrors.\(quote(name))")
            }
        }
        if let configs = top["configs"], !isNull(configs) {
            for (name, value) in try mapping(configs, at: "configs") {
                config.configs[name] = try hostConfig(value, at: "configs.\(quote(name))")
            }
        }
        return config
    }

    private static func mirror(_ node: Node, at path: String) throws -> RegistryConfig.Mirror {
        let fields = try mapping(node, at: path)
        try onlyKeys(fields, ["endpoint", "rewrite"], at: path)
        var endpoints: [URL] = []
        if let list = fields["endpoint"], !isNull(list) {
            guard let sequence = list.sequence else { throw RegistryError(.invalidInput, "\(path).endpoint: must be a list of URLs") }
            for (i, item) in sequence.enumerated() {
                endpoints.append(try endpoint(try string(item, at: "\(path).endpoint[\(i)]"), at: "\(path).endpoint[\(i)]"))
            }
        }
        var rewrites: [RegistryConfig.Rewrite] = []
        if let rewrite = fields["rewrite"], !isNull(rewrite) {
            for (pattern, replacement) in try mapping(rewrite, at: "\(path).rewrite") {
                let at = "\(path).rewrite.\(quote(pattern))"
                do {
                    rewrites.append(try RegistryConfig.Rewrite(pattern: pattern, replacement: try string(replacement, at: at)))
                } catch let error as RegistryError {
                    throw RegistryError(.invalidInput, "\(at): \(error.message)")
                }
            }
        }
        return RegistryConfig.Mirror(endpoints: endpoints, rewrites: rewrites)
    }

    /// An endpoint URL: `https://host[:port][/path]` or `http://…`; a bare `host[:port]` is HTTPS.
    static func endpoint(_ text: String, at path: String) throws -> URL {
        let withScheme = text.contains("://") ? text : "https://" + text
        guard let url = URL(string: withScheme), let scheme = url.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty,
              url.query == nil, url.fragment == nil, url.user == nil
        else {
            throw RegistryError(.invalidInput, "\(path): \"\(text)\" is not an http:// or https:// URL of a registry")
        }
        return url
    }

    private static func hostConfig(_ node: Node, at path: String) throws -> RegistryConfig.HostConfig {
        let fields = try mapping(node, at: path)
        try onlyKeys(fields, ["auth", "tls"], at: path)
        var config = RegistryConfig.HostConfig()
        if let auth = fields["auth"], !isNull(auth) {
            let at = path + ".auth"
            let values = try mapping(auth, at: at)
            try onlyKeys(values, ["username", "password", "auth", "identitytoken"], at: at)
            var credential = RegistryCredential(
                username: try values["username"].map { try string($0, at: at + ".username") },
                password: try values["password"].map { try string($0, at: at + ".password") },
                identityToken: try values["identitytoken"].map { try string($0, at: at + ".identitytoken") })
            if let encoded = values["auth"] {
                do {
                    let decoded = try RegistryCredential(auth: try string(encoded, at: at + ".auth"))
                    credential.username = decoded.username
                    credential.password = decoded.password
                } catch let error as RegistryError {
                    throw RegistryError(.invalidInput, "\(at).auth: \(error.message)")
                }
            }
            config.auth = credential
        }
        if let tls = fields["tls"], !isNull(tls) {
            let at = path + ".tls"
            let values = try mapping(tls, at: at)
            try onlyKeys(values, ["ca_file", "cert_file", "key_file", "insecure_skip_verify"], at: at)
            func file(_ key: String) throws -> String? {
                guard let node = values[key], !isNull(node) else { return nil }
                let value = try string(node, at: "\(at).\(key)")
                guard FileManager.default.isReadableFile(atPath: value) else {
                    throw RegistryError(.invalidInput, "\(at).\(key): cannot read \(value)")
                }
                return value
            }
            var settings = RegistryConfig.TLSSettings(caFile: try file("ca_file"), certFile: try file("cert_file"),
                                                      keyFile: try file("key_file"))
            if let insecure = values["insecure_skip_verify"], !isNull(insecure) {
                guard let flag = insecure.bool else {
                    throw RegistryError(.invalidInput, "\(at).insecure_skip_verify: must be true or false")
                }
                settings.insecureSkipVerify = flag
            }
            if (settings.certFile == nil) != (settings.keyFile == nil) {
                throw RegistryError(.invalidInput, "\(at): cert_file and key_file go together (a client certificate and its key)")
            }
            config.tls = settings
        }
        return config
    }

    // MARK: Node helpers

    private static func mapping(_ node: Node, at path: String) throws -> [(String, Node)] {
        guard let mapping = node.mapping else {
            throw RegistryError(.invalidInput, "\(path.isEmpty ? "the file" : path): must be a mapping")
        }
        var seen = Set<String>()
        var result: [(String, Node)] = []
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                throw RegistryError(.invalidInput, "\(path.isEmpty ? "the file" : path): keys must be strings")
            }
            guard seen.insert(name).inserted else {
                throw RegistryError(.invalidInput, "\(path.isEmpty ? "" : path + ".")\(quote(name)): given twice")
            }
            result.append((name, value))
        }
        return result
    }

    private static func onlyKeys(_ fields: [(String, Node)], _ allowed: [String], at path: String) throws {
        for (key, _) in fields where !allowed.contains(key) {
            let prefix = path.isEmpty ? "" : path + "."
            throw RegistryError(.invalidInput, "\(prefix)\(quote(key)): unknown field (expected one of \(allowed.joined(separator: ", ")))")
        }
    }

    private static func string(_ node: Node, at path: String) throws -> String {
        guard let scalar = node.scalar else { throw RegistryError(.invalidInput, "\(path): must be a string") }
        return scalar.string
    }

    private static func isNull(_ node: Node) -> Bool {
        node.null != nil
    }

    /// Names with dots are quoted in field paths, as kubectl prints them.
    private static func quote(_ name: String) -> String {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" }
        return plain ? name : "\"\(name)\""
    }
}

extension [(String, Node)] {
    fileprivate subscript(_ key: String) -> Node? {
        first { $0.0 == key }?.1
    }
}
