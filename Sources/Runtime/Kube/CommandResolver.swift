import Images
import KubeAPI

/// Kubernetes' rules for what a container runs, given its `command`/`args` and the image's
/// Entrypoint/Cmd (https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/#notes):
/// command replaces Entrypoint and drops Cmd; args replaces Cmd only.
public enum CommandResolver {
    public static func argv(container: Container, image: ImageConfig, env: [String: String]) throws -> [String] {
        let lookup: (String) -> String? = { env[$0] }
        let command = container.command.map { $0.map { VariableExpansion.expand($0, lookup) } }
        let args = container.args.map { $0.map { VariableExpansion.expand($0, lookup) } }
        var argv: [String]
        switch (command, args) {
        case let (command?, args?): argv = command + args
        case let (command?, nil): argv = command
        case let (nil, args?): argv = (image.entrypoint ?? []) + args
        case (nil, nil): argv = (image.entrypoint ?? []) + (image.cmd ?? [])
        }
        guard let first = argv.first, !first.isEmpty else {
            throw RuntimeError.invalidContainer(container.name, "no command specified")
        }
        return argv
    }
}
