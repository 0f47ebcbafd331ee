import ArgumentParser
import Foundation
import Cgroups
import Images
import Runtime

/// Paths every command that touches pods or images shares.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Directory for persistent agent state: images, pod volumes, container layers.")
    var dataDir = "/var/lib/swiftlet/agent"

    @OptionGroup var host: HostRuntimeOptions

    @OptionGroup var configFile: ConfigFileOptions

    var config: RuntimeConfig { host.config(dataDir: dataDir) }

    /// `swiftlet-monitor` next to this executable.
    static func defaultMonitorPath() -> String {
        HostRuntimeOptions.defaultMonitorPath()
    }

    func imageStore() throws -> ImageStore {
        try ImageStore(root: config.imageRoot)
    }
}

/// The runtime's settings besides the data directory (which `swiftlet server` places under its
/// own): run directory, cgroup parent, seccomp, pid limit.
struct HostRuntimeOptions: ParsableArguments {
    @Option(help: "Directory for runtime state that does not survive a reboot (pod namespaces).")
    var runDir = "/run/swiftlet"

    @Option(help: "Parent cgroup of all pods, relative to each cgroup hierarchy (default: as a systemd service, <the service's slice>/kubepods, beside the service's own group; else swiftlet).")
    var cgroupParent: String?

    @Option(help: "Directory holding Localhost seccomp profiles.")
    var seccompProfileRoot: String?

    @Flag(inversion: .prefixedNo, help: "Give containers without a seccomp profile RuntimeDefault (kubelet's --seccomp-default).")
    var seccompDefault = true

    @Option(help: "Maximum number of processes per pod (-1: unlimited), kubelet's --pod-max-pids.")
    var podMaxPids: Int64 = -1

    func config(dataDir: String) -> RuntimeConfig {
        RuntimeConfig(stateRoot: dataDir, runRoot: runDir, cgroupParent: effectiveCgroupParent,
                      seccompProfileRoot: seccompProfileRoot ?? dataDir + "/seccomp",
                      seccompDefault: seccompDefault, podPidsLimit: podMaxPids,
                      monitorPath: Self.defaultMonitorPath())
    }

    /// --cgroup-parent, or where pods go by default (`CgroupParent`).
    var effectiveCgroupParent: String {
        if let cgroupParent { return cgroupParent }
        let own = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        return CgroupParent.defaultParent(selfCgroup: own, environment: ProcessInfo.processInfo.environment)
    }

    /// `swiftlet-monitor` next to this executable.
    static func defaultMonitorPath() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent + "/swiftlet-monitor"
    }
}
