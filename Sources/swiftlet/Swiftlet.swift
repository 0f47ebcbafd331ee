import ArgumentParser
import Foundation
import ServiceSupport

/// swiftlet's version, and the Kubernetes API level it implements (k3s style: v1.31.4+k3s1).
public enum SwiftletVersion {
    public static let version = "0.1.0"
    public static let kubernetes = "v1.32.0+swiftlet.1"
}

@main
struct Swiftlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftlet",
        abstract: "A Kubernetes node agent that runs pods directly on Linux namespaces and cgroups.",
        discussion: """
        The control plane with an agent for its machine (`server`), the node agent (`agent`: static \
        pods, and with --server URL --token TOKEN the pods a server binds to it), with `pods`, \
        `logs` and `node` to look at it, one-shot pods (`run`), the local image store (`images`), \
        the host check (`check-config`), the RuntimeDefault seccomp profile (`seccomp-profile`) and \
        bootstrap tokens (`token`). `server`, `agent`, `pods`, `logs`, `node`, `run` and `images` \
        read their flags from \(ConfigFile.defaultPath) too (keys are the long flag names; \
        --config names another file). install.sh installs `server` or `agent` as a systemd service \
        (docs/install.md).
        """,
        version: "swiftlet \(SwiftletVersion.version) (Kubernetes \(SwiftletVersion.kubernetes))",
        subcommands: [AgentCommand.self, PodsCommand.self, LogsCommand.self, NodeCommand.self, RunCommand.self, ServerCommand.self, TokenCommand.self,
                      ImagesCommand.self, CheckConfigCommand.self, SeccompProfileCommand.self]
    )

    /// ArgumentParser's own main, with the configuration file's flags inserted first
    /// (`ConfigFileExpansion`; k3s reads /etc/rancher/k3s/config.yaml the same way).
    static func main() async {
        do {
            let arguments = try ConfigFileExpansion.expand(Array(CommandLine.arguments.dropFirst()),
                                                           environment: ProcessInfo.processInfo.environment)
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
