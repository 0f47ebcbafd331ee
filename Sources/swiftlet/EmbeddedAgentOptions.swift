import Agent
import ArgumentParser
import Foundation

/// The flags of the agent `swiftlet server` runs for its own machine (k3s' server takes the
/// same agent flags); the rest of the agent's settings keep kubelet's defaults.
struct EmbeddedAgentOptions: ParsableArguments {
    @Option(help: "This machine's node name (default: $SWIFTLET_NODE_NAME, else the host name, lower-cased).")
    var nodeName: String?

    @Option(help: "Directory of static pod manifests (default: DATA-DIR/agent/pod-manifests).")
    var podManifests: String?

    @Option(help: "Root directory of container logs.")
    var logDir = "/var/log/pods"

    @Option(help: "The swiftlet-monitor executable (default: next to this binary).")
    var monitorPath: String?

    @Flag(inversion: .prefixedNo, help: "Give pods an address on the node bridge (off: pods have only loopback).")
    var podNetwork = true

    @Option(help: "Name of the node bridge.")
    var bridgeName = "swiftlet0"

    @OptionGroup(title: "Services on this node") var services: NodeServiceOptions

    @OptionGroup(title: "Images") var images: ImageOptions

    /// The agent's settings, every flag checked; the node is labelled a control-plane node.
    func settings(nodeOptions: NodeOptions, dataDir: String) throws -> AgentSettings {
        let node = try nodeOptions.settings(bridgeName: podNetwork ? bridgeName : nil, controlPlane: true)
        var settings = AgentSettings(podManifests: podManifests ?? dataDir + "/pod-manifests",
                                     nodeName: nodeName ?? AgentCommand.defaultNodeName(), logRoot: logDir)
        settings.node = node
        settings.node.servesIngress = services.servesIngress(podNetwork: podNetwork)
        settings.images = try images.settings().settings
        settings.enforceNodeAllocatable = try nodeOptions.enforcesNodeAllocatable()
        return settings
    }
}
