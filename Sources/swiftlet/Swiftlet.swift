import ArgumentParser

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
        Available now: the node agent for static pods (`agent`, with `pods`, `logs` and `node` to \
        look at it), one-shot pods (`run`), the Kubernetes API server without its scheduler and \
        controllers yet (`server`), the local image store (`images`), the host check \
        (`check-config`), the RuntimeDefault seccomp profile (`seccomp-profile`) and bootstrap \
        tokens (`token`). `agent --server URL --token TOKEN` joins a server (the node credential; \
        pods from the server come later).
        """,
        version: "swiftlet \(SwiftletVersion.version) (Kubernetes \(SwiftletVersion.kubernetes))",
        subcommands: [AgentCommand.self, PodsCommand.self, LogsCommand.self, NodeCommand.self, RunCommand.self, ServerCommand.self, TokenCommand.self,
                      ImagesCommand.self, CheckConfigCommand.self, SeccompProfileCommand.self]
    )
}
