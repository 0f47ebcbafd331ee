import Agent
import ArgumentParser
import Cgroups
import Dispatch
import Foundation
import Glibc
import Logging
import Runtime

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the node agent: keep the pods of a manifest directory running.",
        discussion: """
        Like kubelet with staticPodPath: every YAML or JSON file in --pod-manifests is a Pod, named \
        <name>-<node name>. New files start pods, changed files replace them, removed files stop \
        them (SIGTERM, terminationGracePeriodSeconds, SIGKILL). Containers restart by restartPolicy \
        with kubelet's back-off, probes run as on Kubernetes, logs go to --log-dir in the CRI \
        format. Containers outlive the agent: stopping or killing it leaves them running, and the \
        next agent adopts them. Joining a cluster (--server, --token) is not implemented yet.
        """
    )

    @OptionGroup var options: RuntimeOptions

    @Option(help: "Directory of static pod manifests (kubelet's --pod-manifest-path).")
    var podManifests: String

    @Option(help: "Node name (default: this host's name, lower-cased).")
    var nodeName: String?

    @Option(help: "Root directory of container logs.")
    var logDir = "/var/log/pods"

    @Option(help: "Seconds between re-reads of the manifest directory, besides inotify (kubelet's --file-check-frequency).")
    var fileCheckFrequency: Int = 20

    @Option(help: "Initial container restart back-off, in seconds (kubelet: 10).")
    var restartBackoffInitial: Double = 10

    @Option(help: "Maximum container restart back-off, in seconds (kubelet: 300).")
    var restartBackoffMax: Double = 300

    @Option(help: "Address of the healthz endpoint (kubelet's --healthz-bind-address).")
    var healthzBindAddress = "127.0.0.1"

    @Option(help: "Port of the healthz endpoint; 0 disables it (kubelet's --healthz-port).")
    var healthzPort: UInt16 = 10248

    @Option(help: "The swiftlet-monitor executable (default: next to this binary).")
    var monitorPath: String?

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        ProcessLimits.raiseOpenFiles()
        var config = options.config
        config.monitorPath = monitorPath ?? RuntimeOptions.defaultMonitorPath()
        guard let monitor = config.monitorPath, access(monitor, X_OK) == 0 else {
            throw CLIError("swiftlet-monitor not found at \(config.monitorPath ?? "?"): build it (swift build) or pass --monitor-path")
        }
        let name = nodeName ?? ProcessInfo.processInfo.hostName.lowercased()
        let runtime = PodRuntime(config: config, images: try options.imageStore(), cgroups: try Cgroups.detect(),
                                 nodeName: name)
        let settings = AgentSettings(
            podManifests: podManifests, nodeName: name, logRoot: logDir,
            fileCheckFrequency: .seconds(max(fileCheckFrequency, 1)),
            backoffInitial: .milliseconds(Int64(restartBackoffInitial * 1000)),
            backoffMax: .milliseconds(Int64(restartBackoffMax * 1000)),
            healthzAddress: healthzBindAddress, healthzPort: healthzPort)
        let agent = Agent(runtime: runtime, settings: settings)
        let task = Task { try await agent.run() }
        // SIGTERM/SIGINT end the agent, not the pods (as kubelet: pods survive agent restarts).
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig)
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        try await task.value
    }
}
