import Agent
import Cgroups
import Foundation
import Images
import KubeAPI
import KubeClient
import KubeletServer
import Logging
import NodeNetwork
import Registry
import Runtime

/// The pod network of a joined node: its bridge and the cluster's range; the node's own range
/// comes from the server (`spec.podCIDR`, assigned by the node IPAM controller).
public struct ClusterPodNetwork: Sendable {
    public var bridgeName: String
    public var clusterCIDR: String

    public init(bridgeName: String = "swiftlet0", clusterCIDR: String = "10.42.0.0/16") {
        self.bridgeName = bridgeName
        self.clusterCIDR = clusterCIDR
    }
}

/// An agent joined to a server (`swiftlet agent --server`, and the agent inside `swiftlet
/// server`): registers and reports its Node and Lease, sets up the pod network once the server
/// has given the node a pod CIDR, keeps routes to the other nodes' pods, and runs the pods
/// bound to it (plus static pods, mirrored into the API).
///
/// With `failover` the agent knows every API server of the cluster: it learns them from the
/// `default/kubernetes` Endpoints (`APIServerEndpoints`), checks them every second and moves
/// its requests and watches to another when the one in use fails (`ServerPool`), as k3s'
/// agent load balancer does. Nothing here reacts to API errors by stopping pods: while no
/// server answers, the pods keep running and every loop retries.
public struct ClusterAgent: Sendable {
    public let credential: NodeCredential
    public let config: RuntimeConfig
    public let settings: AgentSettings
    public let podNetwork: ClusterPodNetwork?
    /// The service proxy and cluster DNS (both need the pod network).
    public let serviceSettings: ClusterServiceSettings
    /// Where the kubelet API listens (0.0.0.0:10250); port 0 disables it.
    public let kubeletAddress: String
    public let kubeletPort: Int
    /// Whether to learn the other API servers and fail over to them. Off for the agent inside
    /// `swiftlet server`, which talks to its own process over loopback (k3s disables the
    /// agent's load balancer when the API server is local).
    public let failover: Bool
    let logger: Logger

    public init(credential: NodeCredential, config: RuntimeConfig, settings: AgentSettings, podNetwork: ClusterPodNetwork?,
                serviceSettings: ClusterServiceSettings = ClusterServiceSettings(),
                kubeletAddress: String = "0.0.0.0", kubeletPort: Int = 10250, failover: Bool = true,
                logger: Logger = Logger(label: "swiftlet.agent")) {
        self.credential = credential
        self.config = config
        self.settings = settings
        self.podNetwork = podNetwork
        self.serviceSettings = serviceSettings
        self.kubeletAddress = kubeletAddress
        self.kubeletPort = kubeletPort
        self.failover = failover
        self.logger = logger
    }

    /// Runs until cancelled; pods keep running after it returns (as with kubelet).
    public func run() async throws {
        let client: APIClient
        if failover {
            let pool = ServerPool(server: credential.server, directory: NodeCredential.directory(dataDirectory: config.stateRoot),
                                  logger: logger)
            client = try credential.makeClient(pool: pool)
        } else {
            client = try credential.makeClient()
        }
        do {
            try await runJoined(client)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    private func runJoined(_ client: APIClient) async throws {
        let nodeName = settings.nodeName
        // NetworkUnavailable stays True until the node's pod network is set up, which keeps the
        // node NotReady (kubelet: "network plugin not ready") and the scheduler away.
        let networkStatus = NodeStatusStore(dataDirectory: config.stateRoot)
        if podNetwork != nil {
            networkStatus.networkUnavailable(true, reason: "NoRouteCreated", message: "Node created without a route")
        } else {
            networkStatus.networkUnavailable(true, reason: "NoPodNetwork", message: "pod networking is disabled (--no-pod-network)")
        }
        let (cidrs, cidrSink) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1))
        let images = try ImageStore(root: config.imageRoot)
        let registry = try settings.images.registryConfigPath.map { try RegistryConfig.load(path: $0) } ?? .empty
        let puller = RegistryPuller(store: images, config: registry, maxConcurrentDownloads: settings.images.maxConcurrentDownloads,
                                    logger: logger)
        let imageGC = LateBinding<ImageGCManager>()
        // The node's own Events, sent in the background like the pods' (the agent's recorder
        // starts later, with the pod workers).
        let nodeEvents = PodEventRecorder(api: ClientPodAPI(client: client, nodeName: nodeName), logger: logger)
        let reporter = NodeStatusReporter(
            nodeName: nodeName, settings: settings.node, api: ClientNodeAPI(client: client),
            host: LinuxNodeHost(dataDirectory: config.stateRoot, imageDirectory: config.imageRoot,
                                excludedInterfaces: settings.node.excludedInterfaces),
            networkStatus: networkStatus, logger: logger,
            images: { await imageGC.value?.nodeImages() ?? [] },
            events: { nodeEvents.record($0) },
            onPodCIDR: { cidr in cidrSink.yield(cidr) })
        let nodes = ClusterNodes(client: client, nodeName: nodeName, logger: logger)
        do {
            try await run(reporter: reporter, nodeEvents: nodeEvents, nodes: nodes, client: client, images: images, puller: puller,
                          imageGC: imageGC, cidrs: cidrs, networkStatus: networkStatus)
        } catch {
            await puller.shutdown()
            throw error
        }
        await puller.shutdown()
    }

    private func run(reporter: NodeStatusReporter, nodeEvents: PodEventRecorder, nodes: ClusterNodes, client: APIClient, images: ImageStore,
                     puller: RegistryPuller, imageGC: LateBinding<ImageGCManager>, cidrs: AsyncStream<String>,
                     networkStatus: NodeStatusStore) async throws {
        let nodeName = settings.nodeName
        let services = ClusterServices(client: client, logger: logger)
        let nodeIP = settings.node.nodeIP ?? NodeAddressDetector.detect(excluding: settings.node.excludedInterfaces)
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let pool = client.pool {
                group.addTask { await pool.runHealthChecks(probe: client) }
                group.addTask { await APIServerEndpoints(client: client, pool: pool, logger: logger).run() }
            }
            group.addTask { await reporter.run() }
            group.addTask { await nodeEvents.run() }
            group.addTask { await nodes.run() }
            group.addTask { await services.run() }
            var network: BridgeNetwork?
            var runtimeConfig = config
            // Without a pod network there is no bridge address to answer DNS on nor pod
            // traffic to proxy: pods get the host's DNS.
            runtimeConfig.clusterDNS.nameservers = []
            if let podNetwork {
                var iterator = cidrs.makeAsyncIterator()
                logger.info("waiting for the server to assign this node a pod CIDR", metadata: ["node": "\(nodeName)"])
                guard let cidr = await iterator.next() else { return }
                let bridge = try BridgeNetwork(config: NodeNetworkConfig(
                    bridgeName: podNetwork.bridgeName, podCIDR: cidr, clusterCIDR: podNetwork.clusterCIDR,
                    stateDirectory: config.stateRoot + "/network"))
                try bridge.ensureNode()
                networkStatus.networkUnavailable(false, reason: "RouteCreated",
                                                 message: "swiftlet set up bridge \(podNetwork.bridgeName) for pod network \(cidr)")
                nodes.manageRoutes(on: bridge)
                network = bridge
                logger.info("pod network ready", metadata: ["podCIDR": "\(cidr)"])
                await reporter.syncNodeStatus()
                runtimeConfig.clusterDNS = try await startServices(services, client: client, events: nodeEvents, podCIDR: cidr,
                                                                   clusterCIDR: podNetwork.clusterCIDR, nodeIP: nodeIP, group: &group)
                group.addTask {
                    // The range is the node's for life; a change needs the node re-registered.
                    for await changed in cidrs where changed != cidr {
                        logger.error("the server changed this node's pod CIDR; restart the agent to use it",
                                     metadata: ["old": "\(cidr)", "new": "\(changed)"])
                    }
                }
            }
            let runtime = PodRuntime(config: runtimeConfig, images: images, cgroups: try Cgroups.detect(),
                                     nodeName: nodeName, network: network, services: services)
            let agent = Agent(runtime: runtime, settings: settings,
                              podSync: PodSyncConfig(api: ClientPodAPI(client: client, nodeName: nodeName),
                                                     nodeIPs: nodeIP.map { [$0] } ?? [], nodeUID: { nodes.ownUID }),
                              imagePuller: RegistryImagePuller(puller: puller), logger: logger)
            imageGC.set(agent.imageGC)
            group.addTask { try await agent.run() }
            if kubeletPort != 0 {
                let kubelet = KubeletServer(
                    host: AgentKubeletHost(agent: agent),
                    configuration: KubeletServerConfiguration(address: kubeletAddress, port: kubeletPort,
                                                              certificateDirectory: config.stateRoot + "/kubelet-tls",
                                                              ipAddresses: nodeIP.map { [$0] } ?? []),
                    reviewer: ClientTokenReviewer(client: client), logger: logger)
                group.addTask {
                    try await kubelet.run { port in logger.info("kubelet API listening", metadata: ["port": "\(port)"]) }
                }
            }
            // The agent returns when cancelled; then everything else stops too.
            try await group.next()
            group.cancelAll()
        }
    }
}
