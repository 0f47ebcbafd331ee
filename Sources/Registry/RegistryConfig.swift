import Foundation

/// The node's registry file, in k3s' `registries.yaml` format
/// (https://docs.k3s.io/installation/private-registry), default `/etc/swiftlet/registries.yaml`:
///
/// ```yaml
/// mirrors:
///   docker.io:                       # a registry name as images write it, or "*" for all
///     endpoint:
///       - "https://mirror.internal:5000"
///     rewrite:                       # applied to the repository on the mirrors, not upstream
///       "^library/(.*)": "dockerhub/$1"
/// configs:
///   "mirror.internal:5000":          # an endpoint host[:port] (or a registry name, or "*")
///     auth:
///       username: puller
///       password: secret             # or auth: base64(user:password), or identitytoken
///     tls:
///       ca_file: /etc/swiftlet/mirror-ca.pem
///       cert_file: /etc/swiftlet/client.pem
///       key_file: /etc/swiftlet/client-key.pem
///       insecure_skip_verify: false
/// ```
///
/// As with k3s and containerd, the mirror endpoints of a registry are tried in order and the
/// registry itself (its "default endpoint", `https://<registry>/v2`, for docker.io
/// `https://registry-1.docker.io/v2`) last. Endpoints are HTTPS unless written `http://`;
/// plain HTTP is used nowhere else.
public struct RegistryConfig: Sendable, Equatable {
    public var mirrors: [String: Mirror]
    public var configs: [String: HostConfig]

    /// One registry's mirrors.
    public struct Mirror: Sendable, Equatable {
        /// Endpoint URLs, tried in order before the registry itself.
        public var endpoints: [URL]
        /// Repository rewrites on the mirrors: the first pattern that matches is applied.
        public var rewrites: [Rewrite]

        public init(endpoints: [URL], rewrites: [Rewrite] = []) {
            self.endpoints = endpoints
            self.rewrites = rewrites
        }
    }

    /// A regular expression on the repository path and its replacement (`$1` for groups).
    public struct Rewrite: Sendable, Equatable {
        public var pattern: String
        public var replacement: String

        public init(pattern: String, replacement: String) throws {
            // Checked now, so a bad pattern is an error when the file is read, not at a pull.
            _ = try Rewrite.compile(pattern)
            self.pattern = pattern
            self.replacement = replacement
        }

        static func compile(_ pattern: String) throws -> NSRegularExpression {
            do {
                return try NSRegularExpression(pattern: pattern)
            } catch {
                throw RegistryError(.invalidInput, "rewrite pattern \"\(pattern)\" is not a valid regular expression")
            }
        }

        /// `repository` rewritten, or nil when the pattern does not match.
        func apply(_ repository: String) -> String? {
            guard let regex = try? Rewrite.compile(pattern) else { return nil }
            let range = NSRange(repository.startIndex..., in: repository)
            guard regex.firstMatch(in: repository, range: range) != nil else { return nil }
            return regex.stringByReplacingMatches(in: repository, range: range, withTemplate: replacement)
        }
    }

    /// Credentials and TLS settings of one host.
    public struct HostConfig: Sendable, Equatable {
        public var auth: RegistryCredential?
        public var tls: TLSSettings?

        public init(auth: RegistryCredential? = nil, tls: TLSSettings? = nil) {
            self.auth = auth
            self.tls = tls
        }
    }

    /// TLS settings of a host: an extra CA (added to the system's, as containerd does), a client
    /// certificate, or no verification at all.
    public struct TLSSettings: Sendable, Hashable {
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var insecureSkipVerify: Bool

        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, insecureSkipVerify: Bool = false) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.insecureSkipVerify = insecureSkipVerify
        }
    }

    public init(mirrors: [String: Mirror] = [:], configs: [String: HostConfig] = [:]) {
        self.mirrors = mirrors
        self.configs = configs
    }

    /// No mirrors, no credentials: every registry over HTTPS with the system's CAs.
    public static let empty = RegistryConfig()

    /// The file at `path`; a missing file is the empty configuration (the default path need
    /// not exist), anything unreadable or invalid an error naming the file and the field.
    public static func load(path: String) throws -> RegistryConfig {
        guard FileManager.default.fileExists(atPath: path) else { return .empty }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RegistryError(.invalidInput, "cannot read the registry file \(path): \(error.localizedDescription)")
        }
        do {
            return try RegistryConfigParser.parse(text)
        } catch let error as RegistryError {
            throw RegistryError(error.kind, "registry file \(path): \(error.message)")
        }
    }

    /// The settings of `host` (`host[:port]`): its own entry, else the `*` entry.
    func hostConfig(_ host: String) -> HostConfig? {
        configs[host] ?? configs["*"]
    }
}
