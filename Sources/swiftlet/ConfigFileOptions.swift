import ArgumentParser
import ServiceSupport

/// `--config FILE`: the configuration file every service-related command reads (k3s'
/// `--config`, /etc/rancher/k3s/config.yaml). The file is applied before parsing
/// (`ConfigFileExpansion`); this option exists so the commands accept and document it.
struct ConfigFileOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "YAML file of flags for this command: keys are long flag names, values what the flag takes (default: $\(ConfigFile.environmentVariable), else \(ConfigFile.defaultPath) when it exists). Flags on the command line win; repeatable flags add to the file's list.",
        valueName: "file"))
    var config: String?
}
