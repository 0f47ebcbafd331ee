import APIMachinery
import APIServer
import Agent
import ArgumentParser
import ClusterAgent
import Controllers
import Foundation
import KubeClient
import Logging
import Runtime
import Server
import ServiceSupport
import Storage

/// `swiftlet server`: the Kubernetes API server over the embedded SQLite store or etcd.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the control plane (API server on SQLite or etcd, scheduler, controllers) and an agent for this machine.",
        discussion: """
        Serves HTTPS on --https-listen (default 0.0.0.0:6443) with a cluster CA made on first \
        start, bearer-token authentication, an admin kubeconfig written to --write-kubeconfig \
        and the agents' join token in DATA-DIR/server/token, and runs the scheduler and the \
        controllers (ReplicaSet, Deployment, Job, CronJob, DaemonSet, StatefulSet, garbage collector, namespace, \
        node IPAM, node lifecycle, pod GC, endpoints, endpoint slices, serviceaccounts, \
        root-ca-cert-publisher, service-lb, ingress-status, resourcequota, disruption, \
        replicationcontroller, persistentvolume-binder, local-path-provisioner, pvc-protection, pv-protection;         --controllers), issues service-account tokens (TokenRequest, signed with \
        DATA-DIR/server/tls/service.key, --service-account-issuer) and deletes Events older than \
        --event-ttl. Services get cluster IPs from \
        --service-cidr and node ports from --service-node-port-range; the server keeps the \
        kubernetes Service (endpoint: --advertise-address) and kube-system/kube-dns on \
        --cluster-dns, whose endpoints are every node's agent. It keeps the IngressClass swiftlet \
        (controller swiftlet.io/ingress, the default class unless another is), served by every \
        agent's ingress proxy: recreated at start when missing, never changed. LoadBalancer \
        Services (service-lb, k3s' ServiceLB) and the Ingresses of that class (ingress-status) get \
        the InternalIPs of the Ready nodes as their status addresses; a node labelled \
        node.swiftlet.io/ingress=disabled (an agent with --disable-ingress) is left out of the \
        Ingresses'. It keeps the StorageClass local-path (provisioner rancher.io/local-path,         WaitForFirstConsumer, the default class unless another is), whose claims get a hostPath volume in         --default-local-storage-path on the node of their first pod, as k3s' local-storage does         (--disable-local-storage leaves the class and its provisioner out). New pods pass the LimitRanger admission plugin (LimitRange defaults and bounds) and \
        namespaced objects the ResourceQuota one (usage charged to the namespace's quotas, refused over quota). \
        Unless --disable-agent, it also runs \
        an agent for this machine (as k3s does), joined over loopback with the server's own token and labelled \
        node-role.kubernetes.io/control-plane; its state is in DATA-DIR/agent. --http-listen alone \
        serves plain HTTP without authentication and without an agent, for local tests. The state is \
        in DATA-DIR/server/state.db (SQLite) unless --datastore-endpoint lists etcd members; servers \
        started with the same --token on one etcd datastore share the CA, the service-account key and the \
        tokens, kept there encrypted with the token (k3s' bootstrap data), and one of them at a time runs \
        the scheduler and controllers (--leader-elect). Stops on \
        SIGTERM or SIGINT (the agent's pods keep running); everything acknowledged is stored first. \
        As a systemd service (swiftlet.service from install.sh; docs/install.md) it tells systemd \
        READY=1 once the API serves and its agent answers healthz, and STOPPING=1 on SIGTERM.
        """
    )

    @Option(name: .long, help: "Directory for the server's store, CA and tokens (DATA-DIR/server) and its agent's state (DATA-DIR/agent).")
    var dataDir: String = "/var/lib/swiftlet"

    @Option(name: .long, help: "Serve HTTPS on HOST:PORT (default 0.0.0.0:6443 unless only --http-listen is given).")
    var httpsListen: String?

    @Option(name: .long, help: "Serve plain, unauthenticated HTTP on HOST:PORT (port 0 picks a free one); for local tests only.")
    var httpListen: String?

    @Option(name: .long, help: "Where to write the admin kubeconfig (mode 0600).")
    var writeKubeconfig: String = "/etc/swiftlet/swiftlet.yaml"

    @Option(name: .long, help: "Extra name or IP address for the serving certificate (repeatable).")
    var tlsSan: [String] = []

    @Option(name: .long, help: "IPv4 range Service cluster IPs are allocated from; its first address is the kubernetes Service's.")
    var serviceCIDR: String = "10.43.0.0/16"

    @Option(name: .long, help: "Port range NodePort Services are allocated from, FIRST-LAST.")
    var serviceNodePortRange: String = "30000-32767"

    @Option(name: .long, help: "Cluster IP of the kube-system/kube-dns Service (inside --service-cidr); each node's agent answers DNS behind it.")
    var clusterDNS: String = "10.43.0.10"

    @Option(name: .long, help: "The cluster's DNS domain; the serving certificate names kubernetes.default.svc.<domain>.")
    var clusterDomain: String = "cluster.local"

    @Option(name: .long, help: "The issuer (iss) of service-account tokens, and their default audience (kube-apiserver's --service-account-issuer; default https://kubernetes.default.svc.<cluster-domain>).")
    var serviceAccountIssuer: String?

    @Option(name: .long, help: "The address pods and nodes reach the API server on: the kubernetes Service's endpoint (default: --node-ip, else the address of the default route's interface).")
    var advertiseAddress: String?

    @Option(name: .customLong("cluster-cidr"), help: "IPv4 network of the pods; each node gets a /24 of it.")
    var clusterCIDR: String = "10.42.0.0/16"

    @Option(help: "Seconds a node may go without renewing its Lease before it is NotReady/Unknown (kube-controller-manager's --node-monitor-grace-period).")
    var nodeMonitorGracePeriod: Double = 40

    @Option(help: "Seconds between node health checks (kube-controller-manager's --node-monitor-period).")
    var nodeMonitorPeriod: Double = 5

    @Option(help: "Seconds new pods tolerate the not-ready and unreachable NoExecute taints before eviction (kube-apiserver's --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds).")
    var defaultTolerationSeconds: Int64 = 300

    @Option(help: "How long Events are kept after their last write, as a Go duration (kube-apiserver's --event-ttl).")
    var eventTtl = "1h"

    @Option(help: ArgumentHelp("Controllers to run, comma-separated, as kube-controller-manager's --controllers: '*' is all, NAME enables one, -NAME disables one (e.g. '*,-service-lb'). Names: \(ControllerManager.controllerNames.joined(separator: ", ")).", valueName: "list"))
    var controllers: String = "*"

    @Option(help: ArgumentHelp("Run the scheduler and the controllers only while holding the kube-system/kube-controller-manager Lease, as kube-controller-manager's --leader-elect (default: true with an etcd datastore, false with SQLite).", valueName: "bool"))
    var leaderElect: Bool?

    @Option(help: ArgumentHelp("The cluster's shared secret, as k3s' --token: K10<CA hash>::server:<secret> (DATA-DIR/server/token of the first server) or the bare secret. Agents join with it; with an etcd datastore, servers started with the same token share the CA, keys and tokens kept (encrypted with it) in the datastore. Default: $SWIFTLET_TOKEN, else the one made on first start.", valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("A file holding --token (default: $SWIFTLET_TOKEN_FILE).", valueName: "file"))
    var tokenFile: String?

    @Flag(help: "Do not run an agent for this machine.")
    var disableAgent = false

    @Option(help: ArgumentHelp("Where the local-path provisioner puts volumes on their node, as k3s' --default-local-storage-path.", valueName: "path"))
    var defaultLocalStoragePath: String = "/var/lib/swiftlet/storage"

    @Flag(help: "Neither make the local-path StorageClass nor run its provisioner (k3s' --disable local-storage).")
    var disableLocalStorage = false

    @OptionGroup(title: "The server's own agent") var agent: EmbeddedAgentOptions

    @OptionGroup(title: "The server's own agent: runtime") var runtime: HostRuntimeOptions

    @OptionGroup(title: "The server's own agent: node") var nodeOptions: NodeOptions

    @OptionGroup(title: "Datastore") var datastore: DatastoreOptions

    @OptionGroup var configFile: ConfigFileOptions

    func run() async throws {
        MemoryScavenger.limitArenas()
        let https = try httpsListen.map(Self.parseListen) ?? (httpListen == nil ? ("0.0.0.0", 6443) : nil)
        let http = try httpListen.map(Self.parseListen)
        guard nodeMonitorGracePeriod > 0, nodeMonitorPeriod > 0, defaultTolerationSeconds >= 0 else {
            throw CLIError("--node-monitor-grace-period and --node-monitor-period must be positive, --default-toleration-seconds not negative")
        }
        guard let eventTTLSeconds = GoDuration.seconds(eventTtl), eventTTLSeconds > 0 else {
            throw CLIError("--event-ttl \(eventTtl): expected a positive duration such as 1h or 90m")
        }
        let services = try serviceNetwork()
        // The path goes into every provisioned volume's hostPath, which must be absolute and clean.
        guard disableLocalStorage || (defaultLocalStoragePath.hasPrefix("/")
            && !defaultLocalStoragePath.split(separator: "/").contains("..") && defaultLocalStoragePath != "/") else {
            throw CLIError("--default-local-storage-path \(defaultLocalStoragePath): expected an absolute directory without '..', such as /var/lib/swiftlet/storage")
        }
        let serverToken: JoinToken?
        do {
            serverToken = try TokenSource.resolve(token: token, tokenFile: tokenFile).map { try JoinToken(parsing: $0) }
        } catch {
            throw CLIError("--token: \(error)")
        }
        let datastoreTarget = try datastore.target(defaultSQLitePath: (serverDataDir as NSString).appendingPathComponent("state.db"))
        let unknownControllers = controllerSettings().unknownControllers
        guard unknownControllers.isEmpty else {
            throw CLIError("--controllers \(controllers): \(unknownControllers.map { "\"\($0)\"" }.joined(separator: ", ")) is not in the list of known controllers (\(ControllerManager.controllerNames.joined(separator: ", ")))")
        }
        if let advertiseAddress, IPv4Text.parseIPv4(advertiseAddress).map({ $0 == 0 || $0 >> 24 == 127 || $0 >> 16 == 0xA9FE }) != false {
            throw CLIError("--advertise-address \(advertiseAddress): expected an IPv4 address pods can reach (not loopback, link-local or 0.0.0.0)")
        }
        // The agent's flags are checked before anything starts.
        let runAgent = !disableAgent && https != nil
        let agentSettings = runAgent ? try agent.settings(nodeOptions: nodeOptions, dataDir: agentDataDir) : nil
        if runAgent {
            LoggingSystem.bootstrap(StreamLogHandler.standardError)
            ProcessLimits.raiseOpenFiles()
            let monitor = agentConfig().monitorPath ?? ""
            guard access(monitor, X_OK) == 0 else {
                throw CLIError("swiftlet-monitor not found at \(monitor): build it (swift build), pass --monitor-path, or --disable-agent")
            }
            try FileManager.default.createDirectory(atPath: agentSettings?.podManifests ?? agentDataDir, withIntermediateDirectories: true)
        }
        let dataDir = serverDataDir
        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIError("cannot create the data directory \(dataDir): \(error.localizedDescription)")
        }
        let datastore = try await DatastoreOptions.open(datastoreTarget)
        let storage = datastore.storage
        var logger = Logger(label: "swiftlet.server")
        logger.logLevel = .info
        let controlPlane = try await ControlPlane(storage: storage, serviceCIDR: serviceCIDR, serviceNodePortRange: services.nodePorts,
                                                 defaultTolerationSeconds: defaultTolerationSeconds,
                                                 localStorageClass: !disableLocalStorage, logger: logger)

        var servers: [APIServer] = []
        var kubeconfigWriter: (@Sendable (Int) -> Void)?
        var joinToken: String?
        var rootCACertificatePEM: String?
        let (httpsPorts, httpsPortSink) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        if let (host, port) = https {
            let tlsDirectory = (dataDir as NSString).appendingPathComponent("tls")
            let issuer = serviceAccountIssuer ?? "https://kubernetes.default.svc.\(clusterDomain)"
            let certificateNames = [ProcessInfo.processInfo.hostName, "kubernetes.default.svc.\(clusterDomain)"]
                + tlsSan.filter { ServerCertificatesNames.isName($0) }
            let certificateAddresses = [host, services.kubernetesIP].filter { $0 != "0.0.0.0" && $0 != "::" && ServerCertificatesNames.isAddress($0) }
                // Listening everywhere: agents may dial any of this host's addresses.
                + (host == "0.0.0.0" || host == "::" ? HostAddresses.ipv4() : [])
                + tlsSan.filter(ServerCertificatesNames.isAddress)
            let identity = try await ServerIdentity.settle(directory: dataDir, token: serverToken, datastore: datastore) {
                ServerIdentity(
                    certificates: try await ServerCertificates.loadOrCreate(directory: tlsDirectory, dnsNames: certificateNames,
                                                                            ipAddresses: certificateAddresses),
                    credentials: try ClusterCredentials.loadOrCreate(directory: (dataDir as NSString).appendingPathComponent("cred")),
                    // Service-account tokens are signed with a key kept next to the CA (k3s: service.key).
                    serviceAccounts: try ServiceAccountIssuer.loadOrCreate(directory: tlsDirectory, issuer: issuer))
            }
            let (certificates, credentials, serviceAccounts) = (identity.certificates, identity.credentials, identity.serviceAccounts)
            rootCACertificatePEM = certificates.caCertificatePEM
            let tokenPath = (dataDir as NSString).appendingPathComponent("token")
            joinToken = credentials.joinToken(caHash: certificates.caHash)
            try Self.write(credentials.joinToken(caHash: certificates.caHash) + "\n", to: tokenPath)
            servers.append(controlPlane.apiServer(APIServerConfiguration(
                host: host, port: port, gitVersion: SwiftletVersion.kubernetes,
                tls: TLSMaterial(certificatePEM: certificates.servingCertificatePEM, keyPEM: certificates.servingKeyPEM),
                authenticator: Authenticator(credentials: credentials, serviceAccounts: serviceAccounts),
                caCertificatePEM: certificates.caCertificatePEM, kubeletClientToken: credentials.kubeletClientToken), logger: logger))
            let kubeconfigPath = writeKubeconfig
            let clientHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
            kubeconfigWriter = { port in
                httpsPortSink.yield(port)
                let server = clientHost.contains(":") ? "https://[\(clientHost)]:\(port)" : "https://\(clientHost):\(port)"
                do {
                    try FileManager.default.createDirectory(atPath: (kubeconfigPath as NSString).deletingLastPathComponent,
                                                            withIntermediateDirectories: true)
                    try Self.write(credentials.adminKubeconfig(server: server, caPEM: certificates.caCertificatePEM), to: kubeconfigPath)
                } catch {
                    FileHandle.standardError.write(Data("swiftlet server: cannot write the admin kubeconfig \(kubeconfigPath): \(error)\n".utf8))
                }
            }
        }
        if let (host, port) = http {
            servers.append(controlPlane.apiServer(APIServerConfiguration(
                host: host, port: port, gitVersion: SwiftletVersion.kubernetes), logger: logger))
        }
        var settings = controllerSettings()
        settings.rootCACertificatePEM = rootCACertificatePEM
        if let (host, port) = https, port != 0, let address = advertisedAddress(listenHost: host) {
            // The kubernetes Service forwards to this (with port 0 the port is not known yet).
            settings.apiServerAddresses = [address]
            settings.apiServerPort = port
        }
        // kube-controller-manager's identity form, <hostname>_<uuid>.
        let identity = "\(ProcessInfo.processInfo.hostName)_\(UUID().uuidString.lowercased())"
        // Servers may share an etcd datastore: each keeps a lease on its address, and the
        // kubernetes endpoints list the live ones.
        if datastore.isEtcd { settings.apiServerLeaseIdentity = identity }
        let controllerSettings = settings
        let electionIdentity = (leaderElect ?? datastore.isEtcd) ? identity : nil
        let ownAgent = runAgent ? joinToken.flatMap { token in agentSettings.map { (token, $0) } } : nil
        let config = agentConfig()
        let podNetwork = agent.podNetwork ? ClusterPodNetwork(bridgeName: agent.bridgeName, clusterCIDR: clusterCIDR) : nil
        let serviceSettings = try agent.services.settings(serviceCIDR: serviceCIDR, podNetwork: agent.podNetwork)
        let serverList = servers
        let writer = kubeconfigWriter
        let serverLogger = logger
        // systemd hears READY=1 once the API listens and, when there is one, the server's own
        // agent answers healthz: `systemctl start swiftlet` returns with the node serving.
        let systemd = ServiceNotifier()
        let readiness = (address: agentSettings?.healthzAddress ?? "", port: ownAgent == nil ? 0 : agentSettings?.healthzPort ?? 0,
                         status: ownAgent == nil ? "serving the API" : "serving the API and running node \(agentSettings?.nodeName ?? "")")
        // SIGTERM/SIGINT cancel everything at once rather than asking each HTTP server for a
        // graceful shutdown: that waits for open requests to finish, and watches (kubectl -w,
        // every agent's pod and node watches) never do.
        try await AgentCommand.runUntilSignalled(systemd: systemd) {
            try await Self.serve(servers: serverList, kubeconfigWriter: writer, controlPlane: controlPlane,
                                 electionIdentity: electionIdentity, controllerSettings: controllerSettings, ownAgent: ownAgent,
                                 config: config, podNetwork: podNetwork, serviceSettings: serviceSettings,
                                 httpsPorts: httpsPorts, eventTTL: .seconds(eventTTLSeconds), logger: serverLogger) {
                await systemd.readyWhenHealthy(address: readiness.address, port: UInt16(readiness.port), status: readiness.status)
            }
        }
        await datastore.close()
    }

    /// Runs the API servers, the controllers and the server's own agent until cancelled.
    private static func serve(servers: [APIServer], kubeconfigWriter: (@Sendable (Int) -> Void)?, controlPlane: ControlPlane,
                              electionIdentity: String?, controllerSettings: ControllerSettings,
                              ownAgent: (String, AgentSettings)?, config: RuntimeConfig,
                              podNetwork: ClusterPodNetwork?, serviceSettings: ClusterServiceSettings,
                              httpsPorts: AsyncStream<Int>, eventTTL: Duration, logger: Logger,
                              whenListening: @escaping @Sendable () async -> Void) async throws {
        let (listening, listeningSink) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await controlPlane.runControllers(settings: controllerSettings, electionIdentity: electionIdentity, logger: logger)
            }
            group.addTask { await controlPlane.runServiceAllocationRepair(logger: logger) }
            group.addTask { await controlPlane.runEventExpiry(ttl: eventTTL, logger: logger) }
            group.addTask {
                var ports = listening.makeAsyncIterator()
                guard await ports.next() != nil else { return }
                await whenListening()
                // Returns only when cancelled: the server is stopping.
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }
            if let (token, settings) = ownAgent {
                group.addTask {
                    // The agent joins like any other, over loopback, once HTTPS is up.
                    var ports = httpsPorts.makeAsyncIterator()
                    guard let port = await ports.next() else { return }
                    let credential = try await ClusterJoin.join(server: "https://127.0.0.1:\(port)", token: token,
                                                                nodeName: settings.nodeName, dataDirectory: config.stateRoot,
                                                                logger: Logger(label: "swiftlet.agent.join"))
                    // No failover: this agent's server is this process (k3s: no agent load
                    // balancer beside a local API server).
                    try await ClusterAgent(credential: credential, config: config, settings: settings, podNetwork: podNetwork,
                                           serviceSettings: serviceSettings, failover: false).run()
                    // Returns only when cancelled: the server is stopping.
                    try await Task.sleep(for: .seconds(1_000_000))
                }
            }
            // Ready means the HTTPS API (and its kubeconfig) when there is one.
            let hasTLS = servers.contains { $0.configuration.tls != nil }
            for server in servers {
                let scheme = server.configuration.tls == nil ? "http" : "https"
                let host = server.configuration.host
                let writer = server.configuration.tls == nil ? nil : kubeconfigWriter
                let readySink = server.configuration.tls != nil || !hasTLS ? listeningSink : nil
                group.addTask {
                    try await server.run(handleSignals: false) { port in
                        writer?(port)
                        readySink?.yield(port)
                        // One parseable line for scripts and tests that started us with port 0.
                        FileHandle.standardOutput.write(Data("swiftlet server listening on \(scheme)://\(host):\(port)\n".utf8))
                    }
                }
            }
            // Everything runs until cancelled; the first task to end (or fail) ends the rest.
            try await group.next()
            group.cancelAll()
        }
    }

    var serverDataDir: String { (dataDir as NSString).appendingPathComponent("server") }
    var agentDataDir: String { (dataDir as NSString).appendingPathComponent("agent") }

    /// The controllers' settings from the command line.
    func controllerSettings() -> ControllerSettings {
        var settings = ControllerSettings()
        settings.clusterCIDR = clusterCIDR
        settings.nodeMonitorGracePeriod = .milliseconds(Int64(nodeMonitorGracePeriod * 1000))
        settings.nodeMonitorPeriod = .milliseconds(Int64(nodeMonitorPeriod * 1000))
        settings.defaultTolerationSeconds = defaultTolerationSeconds
        settings.serviceCIDR = serviceCIDR
        settings.clusterDNS = clusterDNS
        settings.localStoragePath = disableLocalStorage ? nil : defaultLocalStoragePath
        settings.controllers = controllers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return settings
    }

    /// --service-cidr, --service-node-port-range and --cluster-dns, checked together: the node
    /// ports and the first service address (the kubernetes Service's, in the certificate).
    func serviceNetwork() throws -> (nodePorts: ClosedRange<Int64>, kubernetesIP: String) {
        // The allocator's own parser (ServiceAllocator), with its 12 to 30 bit bounds.
        guard let (network, prefix) = IPv4Text.parseCIDR(serviceCIDR), (12...30).contains(prefix) else {
            throw CLIError("--service-cidr \(serviceCIDR): expected an IPv4 network with a prefix of 12 to 30 bits, such as 10.43.0.0/16")
        }
        let bounds = serviceNodePortRange.split(separator: "-", omittingEmptySubsequences: false).map { Int64($0) }
        guard bounds.count == 2, let low = bounds[0], let high = bounds[1], low >= 1, low <= high, high <= 65535 else {
            throw CLIError("--service-node-port-range \(serviceNodePortRange): expected FIRST-LAST such as 30000-32767, within 1-65535")
        }
        let size = UInt32(1) << UInt32(32 - prefix)
        guard let dns = IPv4Text.parseIPv4(clusterDNS), dns > network, dns < network + size - 1 else {
            throw CLIError("--cluster-dns \(clusterDNS): expected an IPv4 address inside --service-cidr \(serviceCIDR)")
        }
        guard dns != network + 1 else {
            throw CLIError("--cluster-dns \(clusterDNS): the first address of --service-cidr belongs to the kubernetes Service")
        }
        guard !clusterDomain.isEmpty, clusterDomain.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ label in
            !label.isEmpty && label.count <= 63 && label.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
                && label.first != "-" && label.last != "-"
        }) else {
            throw CLIError("--cluster-domain \(clusterDomain): expected a DNS domain such as cluster.local")
        }
        return (low...high, IPv4Text.format(network + 1))
    }

    /// The kubernetes Service's endpoint address: --advertise-address, --node-ip, the
    /// listening address when it is a specific one, else the default route's interface.
    func advertisedAddress(listenHost: String) -> String? {
        if let advertiseAddress { return advertiseAddress }
        if let nodeIP = nodeOptions.nodeIP { return nodeIP }
        // Endpoints may not be loopback addresses: pods could not use them anyway.
        if let value = IPv4Text.parseIPv4(listenHost), value != 0, value >> 24 != 127 { return listenHost }
        return NodeAddressDetector.detect(excluding: [agent.bridgeName])
    }

    /// The runtime configuration of the server's own agent.
    func agentConfig() -> RuntimeConfig {
        var config = runtime.config(dataDir: agentDataDir)
        config.monitorPath = agent.monitorPath ?? HostRuntimeOptions.defaultMonitorPath()
        config.clusterDNS = ClusterDNSConfig(nameservers: [clusterDNS], domain: clusterDomain)
        return config
    }

    /// Writes a secret-bearing file readable by its owner only.
    static func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CLIError("cannot write \(path)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// `HOST:PORT`, with IPv6 hosts in brackets.
    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw CLIError("\(text): expected HOST:PORT such as 127.0.0.1:6443")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// Sorting `--tls-san` values into names and addresses.
enum ServerCertificatesNames {
    static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    static func isName(_ text: String) -> Bool {
        !isAddress(text)
    }
}
