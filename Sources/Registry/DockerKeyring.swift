import Foundation
import Images

#if canImport(Glibc)
import Glibc
#endif

/// The credentials of a pod's `imagePullSecrets`, looked up for an image the way kubelet does
/// (pkg/credentialprovider/keyring.go and secrets/secrets.go):
/// - secrets of type `kubernetes.io/dockerconfigjson` (key `.dockerconfigjson`,
///   `{"auths": {"<registry>": {...}}}`) and `kubernetes.io/dockercfg` (key `.dockercfg`, the
///   legacy `{"<registry>": {...}}`); other secrets are ignored;
/// - a registry key is a schemeless URL: `registry.example.com`, `registry.example.com:5000/team`,
///   `https://index.docker.io/v1/` (`/v1/` and `/v2/` mean the host), host parts may be globs
///   (`*.example.com`), a path limits it to repositories under that path;
/// - every key that matches the image applies, the most specific first (the keys sorted in
///   reverse), and Docker Hub images fall back to an `index.docker.io` entry.
public struct DockerKeyring: Sendable, Equatable {
    /// One pull secret as the agent read it from the API: its type and decoded data.
    public struct Secret: Sendable, Equatable {
        public var name: String
        public var type: String
        public var data: [String: Data]

        public init(name: String, type: String, data: [String: Data]) {
            self.name = name
            self.type = type
            self.data = data
        }
    }

    /// `(key, credential)` in lookup order.
    var entries: [(key: String, credential: RegistryCredential)] = []

    public static func == (a: DockerKeyring, b: DockerKeyring) -> Bool {
        a.entries.map(\.key) == b.entries.map(\.key) && a.entries.map(\.credential) == b.entries.map(\.credential)
    }

    static let dockerConfigJSONType = "kubernetes.io/dockerconfigjson"
    static let dockerConfigJSONKey = ".dockerconfigjson"
    static let dockerCfgType = "kubernetes.io/dockercfg"
    static let dockerCfgKey = ".dockercfg"
    static let defaultRegistryKey = "index.docker.io"

    public init() {}

    /// The keyring of `secrets`; a secret whose content cannot be read is an error naming it
    /// (kubelet fails the pull with it too: MakeDockerKeyring returns the error).
    public init(secrets: [Secret]) throws {
        var added: [(String, RegistryCredential)] = []
        for secret in secrets {
            let auths: [String: AuthEntry]
            if secret.type == Self.dockerConfigJSONType, let bytes = secret.data[Self.dockerConfigJSONKey], !bytes.isEmpty {
                do {
                    auths = try JSONDecoder().decode(ConfigJSON.self, from: bytes).auths ?? [:]
                } catch {
                    throw RegistryError(.invalidInput, "pull secret \"\(secret.name)\": \(Self.dockerConfigJSONKey) is not a docker config.json: \(Self.describe(error))")
                }
            } else if secret.type == Self.dockerCfgType, let bytes = secret.data[Self.dockerCfgKey], !bytes.isEmpty {
                do {
                    auths = try JSONDecoder().decode([String: AuthEntry].self, from: bytes)
                } catch {
                    throw RegistryError(.invalidInput, "pull secret \"\(secret.name)\": \(Self.dockerCfgKey) is not a .dockercfg: \(Self.describe(error))")
                }
            } else {
                continue
            }
            for (registry, entry) in auths.sorted(by: { $0.key < $1.key }) {
                do {
                    added.append((registry, try entry.credential()))
                } catch let error as RegistryError {
                    throw RegistryError(.invalidInput, "pull secret \"\(secret.name)\", registry \"\(registry)\": \(error.message)")
                }
            }
        }
        for (registry, credential) in added {
            guard let key = Self.key(registry) else { continue }
            entries.append((key, credential))
        }
        // Most specific first; a stable sort keeps secrets' order among equal keys.
        entries = entries.enumerated().sorted { a, b in
            a.element.key != b.element.key ? a.element.key > b.element.key : a.offset < b.offset
        }.map(\.element)
    }

    /// The credentials to try for `reference`, most specific first; empty when none apply.
    public func lookup(_ reference: ImageReference) -> [RegistryCredential] {
        let image = reference.name
        var found = entries.filter { Self.matches(glob: $0.key, target: image) }.map(\.credential)
        if found.isEmpty, reference.domain == "docker.io" {
            found = entries.filter { $0.key == Self.defaultRegistryKey }.map(\.credential)
        }
        var seen = Set<RegistryCredential>()
        return found.filter { seen.insert($0).inserted }
    }

    /// kubelet's normalization of a config key: scheme dropped, `/v1/` and `/v2/` mean the host.
    static func key(_ registry: String) -> String? {
        guard let (hostPort, path) = split(registry) else { return nil }
        var effective = path
        if effective.hasPrefix("/v2/") || effective.hasPrefix("/v1/") { effective = String(effective.dropFirst(3)) }
        return effective.isEmpty || effective == "/" ? hostPort : hostPort + effective
    }

    /// kubelet's `URLsMatchStr`: the same number of host labels, each matching as a glob, the
    /// same port, and the target's path under the key's.
    static func matches(glob: String, target: String) -> Bool {
        guard let (globHostPort, globPath) = split(glob), let (targetHostPort, targetPath) = split(target) else { return false }
        let (globHost, globPort) = splitPort(globHostPort)
        let (targetHost, targetPort) = splitPort(targetHostPort)
        let globParts = globHost.split(separator: ".", omittingEmptySubsequences: false)
        let targetParts = targetHost.split(separator: ".", omittingEmptySubsequences: false)
        guard globParts.count == targetParts.count, globPort == targetPort else { return false }
        for (pattern, part) in zip(globParts, targetParts) where fnmatch(String(pattern), String(part), 0) != 0 {
            return false
        }
        return targetPath.hasPrefix(globPath)
    }

    /// `[scheme://]host[:port][/path]` → (`host[:port]` lowercased, `/path` or ""); nil without a host.
    /// Parsed by hand: URL parsers refuse the `*` of host globs.
    private static func split(_ text: String) -> (String, String)? {
        var rest = Substring(text)
        for scheme in ["https://", "http://"] where rest.lowercased().hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostPort = rest[..<slash].lowercased()
        guard !hostPort.isEmpty, !hostPort.contains("@") else { return nil }
        return (hostPort, String(rest[slash...]))
    }

    private static func splitPort(_ hostPort: String) -> (String, String) {
        guard let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") else { return (hostPort, "") }
        return (String(hostPort[..<colon]), String(hostPort[hostPort.index(after: colon)...]))
    }

    private struct ConfigJSON: Decodable {
        var auths: [String: AuthEntry]?
    }

    /// One registry's entry: `auth` (base64 user:password) or `username`/`password`, and the
    /// token fields docker writes.
    private struct AuthEntry: Decodable {
        var username: String?
        var password: String?
        var auth: String?
        var identitytoken: String?
        var registrytoken: String?

        func credential() throws -> RegistryCredential {
            var credential = RegistryCredential(username: username, password: password,
                                                identityToken: identitytoken, registryToken: registrytoken)
            if let auth, !auth.isEmpty {
                let decoded = try RegistryCredential(auth: auth)
                credential.username = decoded.username
                credential.password = decoded.password
            }
            return credential
        }
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        if case DecodingError.typeMismatch(_, let context) = error {
            return context.debugDescription + " at " + context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        return "\(error)"
    }
}
