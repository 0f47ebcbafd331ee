import ArgumentParser
import Foundation
import Runtime

struct SeccompProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seccomp-profile",
        abstract: "Print the RuntimeDefault seccomp profile as an OCI `linux.seccomp` object.",
        discussion: """
        The profile is resolved for a capability set, as containerd resolves it before handing it \
        to runc: syscalls that need a capability the container lacks are left out. The default \
        set is containerd's default capabilities.
        """
    )

    @Option(parsing: .upToNextOption, help: "Effective capabilities, e.g. CAP_SYS_ADMIN (default: containerd's set).")
    var capabilities: [String] = []

    func run() throws {
        let names = capabilities.isEmpty ? Set(Capabilities.defaultNames)
            : Set(capabilities.map { $0.uppercased().hasPrefix("CAP_") ? $0.uppercased() : "CAP_" + $0.uppercased() })
        let data = try SeccompProfile.runtimeDefault.ociJSON(capabilities: names)
        FileHandle.standardOutput.write(data)
        print()
    }
}
