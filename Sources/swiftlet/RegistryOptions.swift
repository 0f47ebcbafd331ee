import ArgumentParser
import Registry

/// The registry flags the agents (`agent`, `server`'s own agent, through `ImageOptions`) and
/// `images pull` share: `--registry-config` is k3s' registries.yaml, `--max-concurrent-downloads`
/// containerd's setting of that name.
struct RegistryOptions: ParsableArguments {
    @Option(help: "The registry file: mirrors, rewrites, credentials and TLS per registry, in k3s' registries.yaml format (a missing file means none). See docs/images.md.")
    var registryConfig = "/etc/swiftlet/registries.yaml"

    @Option(help: "Layers of one image downloading at once (containerd's max_concurrent_downloads).")
    var maxConcurrentDownloads = 3

    /// The registry file, read and checked (a missing file is an empty configuration).
    func load() throws -> RegistryConfig {
        guard maxConcurrentDownloads >= 1 else {
            throw CLIError("--max-concurrent-downloads \(maxConcurrentDownloads): must be at least 1")
        }
        do {
            return try RegistryConfig.load(path: registryConfig)
        } catch {
            throw CLIError("\(error)")
        }
    }
}
