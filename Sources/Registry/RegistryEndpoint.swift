import Foundation
import Images

/// One place an image can be fetched from: a mirror or the registry itself, with the
/// repository path to ask it for and the host's TLS settings and credentials.
public struct RegistryEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// `scheme://host[:port][/prefix]`; the API is at `<base>/v2/`.
    public var base: URL
    /// The repository on this endpoint (a mirror's rewrite applied).
    public var repository: String
    /// A mirror from the registry file, not the registry itself.
    public var isMirror: Bool
    public var tls: RegistryConfig.TLSSettings?
    /// Credentials from the registry file for this host.
    public var auth: RegistryCredential?

    /// `host[:port]`, as the registry file's `configs` and pull secrets name hosts.
    public var host: String {
        guard let name = base.host else { return "" }
        let bracketed = name.contains(":") ? "[\(name)]" : name
        return base.port.map { "\(bracketed):\($0)" } ?? bracketed
    }

    /// The URL of `/v2/<repository>/<kind>/<reference>`.
    func url(_ kind: String, _ reference: String) -> String {
        apiRoot + repository + "/" + kind + "/" + reference
    }

    /// `<base>/v2/`: a base whose path already ends in `/v2` is used as is.
    var apiRoot: String {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        if !text.hasSuffix("/v2") { text += "/v2" }
        return text + "/"
    }

    public var description: String { apiRoot + repository }

    /// docker.io's own endpoint (containerd's default host for it).
    static let dockerHubHost = "registry-1.docker.io"

    /// Where to fetch `reference` from, in order: the registry's mirrors (or those of `*`),
    /// then the registry itself, as containerd does with k3s' hosts configuration.
    public static func endpoints(for reference: ImageReference, config: RegistryConfig) -> [RegistryEndpoint] {
        var result: [RegistryEndpoint] = []
        if let mirror = config.mirrors[reference.domain] ?? config.mirrors["*"] {
            var repository = reference.path
            for rewrite in mirror.rewrites {
                if let rewritten = rewrite.apply(reference.path) {
                    repository = rewritten
                    break
                }
            }
            for url in mirror.endpoints {
                var endpoint = RegistryEndpoint(base: url, repository: repository, isMirror: true)
                let settings = config.configs[endpoint.host] ?? config.configs["*"]
                endpoint.tls = settings?.tls
                endpoint.auth = settings?.auth
                result.append(endpoint)
            }
        }
        let host = reference.domain == "docker.io" ? dockerHubHost : reference.domain
        // Rewrites are not applied upstream (k3s: "Rewrites are not applied to pulls against the
        // default endpoint"). A mirror entry naming the registry itself over http:// is how a
        // plain-HTTP registry is configured; that entry is then the default endpoint too.
        guard let base = URL(string: "https://" + host) else { return result }
        if result.contains(where: { $0.host == host && $0.repository == reference.path }) { return result }
        var upstream = RegistryEndpoint(base: base, repository: reference.path, isMirror: false)
        let settings = config.configs[host] ?? config.configs[reference.domain] ?? config.configs["*"]
        upstream.tls = settings?.tls
        upstream.auth = settings?.auth
        result.append(upstream)
        return result
    }
}
