import Agent
import ArgumentParser
import Cgroups
import ClusterAgent
import Dispatch
import Foundation
import Glibc
import KubeClient
import Logging
import NodeNetwork
import Registry
import Runtime

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the node agent: the pods of a manifest directory, and with --server those the cluster binds to this node.",
        discussion: """
        Like kubelet with staticPodPath: every YAML or JSON file in --pod-manifests is a Pod, named \
        <name>-<node name>. New files start pods, changed files replace them, removed files stop \
        them (SIGTERM, terminationGracePeriodSeconds, SIGKILL). Containers restart by restartPolicy \
        with kubelet's back-off, probes run as on Kubernetes, logs go to --log-dir in the CRI \
        format. Containers outlive the agent: stopping or killing it leaves them running, and the \
        next agent adopts them. Pods get an address from --pod-cidr on the node bridge, with \
        masquerade for traffic leaving --cluster-cidr and hostPorts (this changes the node's \
        network: run it in a network namespace to try it safely). With --server and a token \
        (--token, --token-file, or SWIFTLET_URL / SWIFTLET_TOKEN / SWIFTLET_TOKEN_FILE) it first \
        joins that server: checks the server's CA against the token, trades the token for a node \
        credential kept in DATA-DIR/credential, retrying while the server is unreachable. Then it \
        registers its Node (status every 10 s, a Lease renewed every 10 s), sets up the pod network \
        on the pod CIDR the server assigns (--pod-cidr and --node-route are then ignored: routes to \
        the other nodes' pods follow the Node objects), runs the pods bound to it, reports their \
        status, mirrors its static pods into the API, and serves the kubelet API (pods, container \
        logs for `kubectl logs`, stats, metrics) on :10250. It learns the cluster's other API \
        servers from the default/kubernetes Endpoints (kept in DATA-DIR/credential/servers), \
        checks them every second and moves to another when the one in use fails; pods keep \
        running while no server answers. As a systemd service \
        (swiftlet-agent.service from install.sh; docs/install.md) it tells systemd READY=1 once \
        healthz answers and STOPPING=1 on SIGTERM, and puts pods in <its slice>/kubepods.
        """
    )

    @OptionGroup var options: RuntimeOptions

    @OptionGroup(title: "Node status (used when joining a server)") var nodeOptions: NodeOptions

    @OptionGroup(title: "Images") var imageOptions: ImageOptions

    @Option(help: "Directory of static pod manifests (kubelet's --pod-manifest-path; default DATA-DIR/pod-manifests).")
    var podManifests: String?

    @Option(help: "Node name (default: $SWIFTLET_NODE_NAME, else this host's name, lower-cased).")
    var nodeName: String?

    @Option(help: "The server to join, https://HOST:PORT (default: $SWIFTLET_URL); the agent then also uses the other API servers the cluster lists, this one last when it is not among them.")
    var server: String?

    @Option(help: "The join token, K10<CA hash>::<user>:<password> or K10<CA hash>::<id>.<secret> (default: $SWIFTLET_TOKEN).")
    var token: String?

    @Option(help: "A file holding the join token (default: $SWIFTLET_TOKEN_FILE).")
    var tokenFile: String?

    @Flag(help: "Join the server (check the token against the server's CA, get the node credential), say so and exit; gives up after about 15 s when the server cannot be reached. install.sh checks a URL and token this way before installing anything.")
    var joinOnly = false

    @Option(help: "Root directory of container logs.")
    var logDir = "/var/log/pods"

    @Option(help: "Seconds between re-reads of the manifest directory, besides inotify (kubelet's --file-check-frequency).")
    var fileCheckFrequency: Int = 20

    @Option(help: "Seconds between re-reads of the ConfigMaps and Secrets of running pods' volumes; changed volumes are rewritten (kubelet's --sync-frequency, 60).")
    var syncFrequency: Int = 60

    @Option(help: "Initial container restart back-off, in seconds (kubelet: 10).")
    var restartBackoffInitial: Double = 10

    @Option(help: "Maximum container restart back-off, in seconds (kubelet: 300).")
    var restartBackoffMax: Double = 300

    @Option(help: "A container that ran this many seconds restarts without back-off (kubelet: twice the maximum, 600).")
    var restartBackoffReset: Double?

    @Option(help: "Address of the healthz endpoint (kubelet's --healthz-bind-address).")
    var healthzBindAddress = "127.0.0.1"

    @Option(help: "Port of the healthz endpoint; 0 disables it (kubelet's --healthz-port).")
    var healthzPort: UInt16 = 10248

    @Option(help: "The swiftlet-monitor executable (default: next to this binary).")
    var monitorPath: String?

    @Flag(inversion: .prefixedNo, help: "Give pods an address on the node bridge (off: pods have only loopback).")
    var podNetwork = true

    @Option(help: "This node's pod subnet; the bridge takes its first address (without --server; a server assigns it).")
    var podCIDR = "10.42.0.0/24"

    @Option(help: "The cluster's pod network; traffic leaving it is masqueraded.")
    var clusterCIDR = "10.42.0.0/16"

    @Option(help: "Name of the node bridge.")
    var bridgeName = "swiftlet0"

    @Option(help: "A route to another node's pods, as POD_CIDR=NODE_IP (repeatable; host-gw; without --server).")
    var nodeRoute: [String] = []

    @Option(help: "The nameserver address pods with dnsPolicy ClusterFirst get (kubelet's --cluster-dns; default with --server: the cluster IP of the server's kube-system/kube-dns Service).")
    var clusterDNS: String?

    @Option(help: "The cluster's DNS domain (kubelet's --cluster-domain).")
    var clusterDomain = "cluster.local"

    @Option(help: "The cluster's Service IP range, as the server's --service-cidr (with --server).")
    var serviceCIDR = "10.43.0.0/16"

    @OptionGroup(title: "Services on this node (with --server)") var services: NodeServiceOptions

    /// $SWIFTLET_NODE_NAME (install.sh keeps it in the service's environment file, as k3s
    /// keeps K3S_NODE_NAME), else the host name, lower-cased.
    static func defaultNodeName() -> String {
        if let name = ProcessInfo.processInfo.environment["SWIFTLET_NODE_NAME"], !name.isEmpty { return name }
        return ProcessInfo.processInfo.hostName.lowercased()
    }

    static func parseRoute(_ text: String) throws -> NodeRoute {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw CLIError("--node-route \(text): expected POD_CIDR=NODE_IP, e.g. 10.42.1.0/24=192.168.1.11") }
        return NodeRoute(podCIDR: parts[0], nodeIP: parts[1])
    }

    /// Joins the server given by --server or $SWIFTLET_URL, if any. Without a token, the
    /// credential of an earlier join with that server is used.
    func joinIfAsked(nodeName: String, retry: ClusterJoin.Retry = ClusterJoin.Retry()) async throws -> NodeCredential? {
        let environment = ProcessInfo.processInfo.environment
        guard let server = server ?? environment["SWIFTLET_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        guard let joinToken = try TokenSource.resolve(token: token, tokenFile: tokenFile, environment: environment) else {
            if let stored = NodeCredential.load(dataDirectory: options.dataDir), stored.server == server, stored.nodeName == nodeName {
                return stored
            }
            throw CLIError("--server \(server) needs a join token: --token, --token-file, $SWIFTLET_TOKEN or $SWIFTLET_TOKEN_FILE (the server's is in <server data dir>/token)")
        }
        do {
            return try await ClusterJoin.join(server: server, token: joinToken, nodeName: nodeName, dataDirectory: options.dataDir,
                                              logger: Logger(label: "swiftlet.agent.join"), retry: retry)
        } catch let error as JoinError {
            throw CLIError(error.description)
        }
    }

    func run() async throws {
        MemoryScavenger.limitArenas()
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        // Flag mistakes are reported before anything on the machine changes.
        var nodeSettings = try nodeOptions.settings(bridgeName: podNetwork ? bridgeName : nil)
        let serviceSettings = try services.settings(serviceCIDR: serviceCIDR, podNetwork: podNetwork)
        nodeSettings.servesIngress = services.servesIngress(podNetwork: podNetwork)
        let (imageSettings, registryConfig) = try imageOptions.settings()
        ProcessLimits.raiseOpenFiles()
        var config = options.config
        config.monitorPath = monitorPath ?? RuntimeOptions.defaultMonitorPath()
        config.clusterDNS = ClusterDNSConfig(nameservers: clusterDNS.map { [$0] } ?? [], domain: clusterDomain)
        guard let monitor = config.monitorPath, access(monitor, X_OK) == 0 else {
            throw CLIError("swiftlet-monitor not found at \(config.monitorPath ?? "?"): build it (swift build) or pass --monitor-path")
        }
        let name = nodeName ?? Self.defaultNodeName()
        var settings = AgentSettings(
            podManifests: podManifests ?? options.dataDir + "/pod-manifests", nodeName: name, logRoot: logDir,
            fileCheckFrequency: .seconds(max(fileCheckFrequency, 1)),
            backoffInitial: .milliseconds(Int64(restartBackoffInitial * 1000)),
            backoffMax: .milliseconds(Int64(restartBackoffMax * 1000)),
            backoffReset: restartBackoffReset.map { .milliseconds(Int64($0 * 1000)) },
            healthzAddress: healthzBindAddress, healthzPort: healthzPort)
        settings.node = nodeSettings
        settings.images = imageSettings
        settings.enforceNodeAllocatable = try nodeOptions.enforcesNodeAllocatable()
        settings.configSyncPeriod = .seconds(max(syncFrequency, 1))
        if joinOnly {
            guard let credential = try await joinIfAsked(nodeName: name, retry: ClusterJoin.Retry(maximumAttempts: 5)) else {
                throw CLIError("--join-only needs --server (or $SWIFTLET_URL) and a token")
            }
            print("joined \(credential.server) as node \(credential.nodeName): the token matches the server's CA and was accepted")
            return
        }
        let systemd = ServiceNotifier()
        let healthz = (address: healthzBindAddress, port: healthzPort)
        if let credential = try await joinIfAsked(nodeName: name) {
            Logger(label: "swiftlet.agent").info("joined \(credential.server) as node \(credential.nodeName)")
            let agent = ClusterAgent(credential: credential, config: config, settings: settings,
                                     podNetwork: podNetwork ? ClusterPodNetwork(bridgeName: bridgeName, clusterCIDR: clusterCIDR) : nil,
                                     serviceSettings: serviceSettings)
            try await Self.runUntilSignalled(systemd: systemd) {
                async let ready: Void = systemd.readyWhenHealthy(
                    address: healthz.address, port: healthz.port,
                    status: "node \(credential.nodeName) joined to \(credential.server)")
                try await agent.run()
                await ready
            }
            return
        }
        // NetworkUnavailable stays True until the node's pod network is set up.
        let nodeStatus = NodeStatusStore(dataDirectory: options.dataDir)
        var network: BridgeNetwork?
        if podNetwork {
            nodeStatus.networkUnavailable(true, reason: "NoRouteCreated", message: "Node created without a route")
            let node = try BridgeNetwork(config: NodeNetworkConfig(
                bridgeName: bridgeName, podCIDR: podCIDR, clusterCIDR: clusterCIDR,
                stateDirectory: options.dataDir + "/network"))
            try node.ensureNode()
            try node.syncRoutes(try nodeRoute.map(Self.parseRoute))
            network = node
            nodeStatus.networkUnavailable(false, reason: "RouteCreated",
                                          message: "swiftlet set up bridge \(bridgeName) for pod network \(podCIDR)")
        } else {
            nodeStatus.networkUnavailable(true, reason: "NoPodNetwork", message: "pod networking is disabled (--no-pod-network)")
        }
        let images = try options.imageStore()
        let runtime = PodRuntime(config: config, images: images, cgroups: try Cgroups.detect(),
                                 nodeName: name, network: network)
        let puller = RegistryPuller(store: images, config: registryConfig,
                                    maxConcurrentDownloads: imageSettings.maxConcurrentDownloads)
        let agent = Agent(runtime: runtime, settings: settings, imagePuller: RegistryImagePuller(puller: puller))
        let status = "node \(name): static pods from \(settings.podManifests)"
        do {
            try await Self.runUntilSignalled(systemd: systemd) {
                async let ready: Void = systemd.readyWhenHealthy(address: healthz.address, port: healthz.port, status: status)
                try await agent.run()
                await ready
            }
        } catch {
            await puller.shutdown()
            throw error
        }
        await puller.shutdown()
    }

    /// Runs `body` until it returns or SIGTERM/SIGINT cancels it: signals end the agent, not
    /// the pods (as with kubelet, pods survive agent restarts). Under systemd the signal is
    /// reported as STOPPING=1 first.
    static func runUntilSignalled(systemd: ServiceNotifier? = nil, _ body: @escaping @Sendable () async throws -> Void) async throws {
        let task = Task { try await body() }
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig)
            source.setEventHandler {
                systemd?.stopping()
                task.cancel()
            }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        try await task.value
    }
}

/// The flags of the agent's Node: registration labels and taints, resource reservations,
/// status and lease periods (kubelet's flags of the same names; k3s' --node-label/--node-taint).
struct NodeOptions: ParsableArguments {
    @Option(help: "The address reported as the node's InternalIP (default: the IPv4 address of the default route's interface).")
    var nodeIP: String?

    @Option(help: "Most pods this node runs (kubelet's --max-pods).")
    var maxPods = 110

    @Option(help: "Resources kept for the OS, e.g. cpu=100m,memory=100Mi,ephemeral-storage=1Gi (kubelet's --system-reserved).")
    var systemReserved: String?

    @Option(help: "Resources kept for swiftlet itself, same form as --system-reserved (kubelet's --kube-reserved).")
    var kubeReserved: String?

    @Option(help: "A label the node registers with, KEY=VALUE (repeatable; applied at registration only).")
    var nodeLabel: [String] = []

    @Option(help: "A taint the node registers with, KEY[=VALUE]:EFFECT (repeatable; applied at registration only).")
    var nodeTaint: [String] = []

    @Option(help: "Seconds between node status computations; a change is sent at once (kubelet's --node-status-update-frequency).")
    var nodeStatusUpdateFrequency = 10

    @Option(help: "Seconds after which node status is sent even when unchanged (kubelet's --node-status-report-frequency).")
    var nodeStatusReportFrequency = 60

    @Option(help: "Duration of the node's heartbeat Lease, renewed every quarter of it (kubelet's --node-lease-duration-seconds).")
    var nodeLeaseDurationSeconds: Int32 = 40

    @Option(help: "pods: limit the pods' parent cgroup to node allocatable (capacity minus --system-reserved and --kube-reserved); none: leave it unlimited (kubelet's --enforce-node-allocatable).")
    var enforceNodeAllocatable = "pods"

    /// --enforce-node-allocatable, checked: kubelet also takes system-reserved and
    /// kube-reserved, which need the agent and the OS in cgroups of their own.
    func enforcesNodeAllocatable() throws -> Bool {
        switch enforceNodeAllocatable {
        case "pods": return true
        case "none", "": return false
        default:
            throw CLIError("--enforce-node-allocatable \(enforceNodeAllocatable): only pods or none (system-reserved and kube-reserved enforcement are not supported)")
        }
    }

    /// The settings, with every flag checked; `bridgeName` is never taken for the InternalIP.
    func settings(bridgeName: String?, controlPlane: Bool = false) throws -> NodeSettings {
        if let nodeIP {
            var ipv4 = in_addr()
            var ipv6 = in6_addr()
            guard inet_pton(AF_INET, nodeIP, &ipv4) == 1 || inet_pton(AF_INET6, nodeIP, &ipv6) == 1 else {
                throw CLIError("--node-ip \(nodeIP): not an IP address")
            }
        }
        guard maxPods > 0 else { throw CLIError("--max-pods \(maxPods): must be at least 1") }
        guard nodeStatusUpdateFrequency > 0, nodeStatusReportFrequency > 0 else {
            throw CLIError("--node-status-update-frequency and --node-status-report-frequency must be at least 1 second")
        }
        guard nodeLeaseDurationSeconds > 0 else { throw CLIError("--node-lease-duration-seconds \(nodeLeaseDurationSeconds): must be at least 1") }
        do {
            var labels: [String: String] = [:]
            for text in nodeLabel {
                let label = try NodeSettings.parseLabel(text)
                labels[label.key] = label.value
            }
            return NodeSettings(
                nodeIP: nodeIP, excludedInterfaces: bridgeName.map { [$0] } ?? [], maxPods: maxPods,
                systemReserved: try systemReserved.map { try NodeSettings.parseReservation($0, flag: "--system-reserved") } ?? [:],
                kubeReserved: try kubeReserved.map { try NodeSettings.parseReservation($0, flag: "--kube-reserved") } ?? [:],
                labels: labels, taints: try nodeTaint.map { try NodeSettings.parseTaint($0) }, controlPlane: controlPlane,
                statusUpdateFrequency: .seconds(nodeStatusUpdateFrequency),
                statusReportFrequency: .seconds(nodeStatusReportFrequency),
                leaseDurationSeconds: nodeLeaseDurationSeconds,
                kubeletVersion: SwiftletVersion.kubernetes, runtimeVersion: SwiftletVersion.version)
        } catch {
            throw CLIError("\(error)")
        }
    }
}
