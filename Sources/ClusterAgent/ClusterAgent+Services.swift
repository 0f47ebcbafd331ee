import Agent
import ClusterDNS
import Foundation
import IngressProxy
import NIOPosix
import KubeClient
import KubeAPI
import Logging
import NodeNetwork
import Runtime
import ServiceProxy

/// What a joined node does for Services besides its pods: kube-proxy's job (the service
/// proxy, nftables) and CoreDNS's (the cluster DNS server), both fed by the node's own
/// Service and EndpointSlice watches.
public struct ClusterServiceSettings: Sendable {
    /// The ClusterIP range (k3s' --service-cidr): addresses outside it are refused by the proxy.
    public var serviceCIDR: String
    /// Program Services into nftables (k3s' `--disable-kube-proxy` turns this off).
    public var serviceProxy: Bool
    /// Answer cluster DNS on the node bridge's address, port 53 (k3s: `--disable coredns`).
    public var clusterDNS: Bool
    /// Serve Ingresses on the node's HTTP and HTTPS ports; nil: not (k3s: `--disable traefik`).
    public var ingress: ClusterIngressSettings?

    public init(serviceCIDR: String = "10.43.0.0/16", serviceProxy: Bool = true, clusterDNS: Bool = true,
                ingress: ClusterIngressSettings? = nil) {
        self.serviceCIDR = serviceCIDR
        self.serviceProxy = serviceProxy
        self.clusterDNS = clusterDNS
        self.ingress = ingress
    }
}

/// Where the node's ingress proxy listens (every address of the node, as k3s' Traefik does
/// behind its ServiceLB).
public struct ClusterIngressSettings: Sendable {
    public var httpPort: Int
    public var httpsPort: Int

    public init(httpPort: Int = 80, httpsPort: Int = 443) {
        self.httpPort = httpPort
        self.httpsPort = httpsPort
    }
}

extension ClusterAgent {
    /// The Service the cluster DNS is reached at (the server keeps it; its EndpointSlice lists
    /// every node's bridge address, and `internalTrafficPolicy: Local` keeps queries on the node).
    static let dnsService = (namespace: "kube-system", name: "kube-dns")

    /// Starts the service proxy and the DNS server in `group` once the pod network is up, and
    /// returns the DNS settings pods get: the cluster nameserver only when this node answers it.
    func startServices(_ services: ClusterServices, client: APIClient, events: PodEventRecorder, podCIDR: String, clusterCIDR: String,
                       nodeIP: String?, group: inout ThrowingTaskGroup<Void, any Error>) async throws -> ClusterDNSConfig {
        let settings = serviceSettings
        let nodeName = self.settings.nodeName
        if let ingress = settings.ingress {
            startIngress(ingress, services: services, client: client, events: events, group: &group)
        }
        if settings.serviceProxy {
            guard let serviceCIDR = IPv4Subnet(settings.serviceCIDR), let cluster = IPv4Subnet(clusterCIDR) else {
                throw ClusterAgentError("--service-cidr \(settings.serviceCIDR) or --cluster-cidr \(clusterCIDR) is not an IPv4 network such as 10.43.0.0/16")
            }
            let proxy = try ServiceProxy(config: ServiceProxyConfig(
                nodeName: nodeName, nodeAddresses: nodeIP.flatMap(IPv4Address.init).map { [$0] } ?? [],
                clusterCIDR: cluster, serviceCIDR: serviceCIDR), logger: logger)
            services.attach(proxy)
            group.addTask { await proxy.run() }
            logger.info("service proxy started", metadata: ["serviceCIDR": "\(serviceCIDR)"])
        }
        var dns = config.clusterDNS
        guard settings.clusterDNS, let subnet = IPv4Subnet(podCIDR) else { return ClusterDNSConfig(domain: dns.domain) }
        if dns.nameservers.isEmpty {
            // Not given (--cluster-dns): the address of the server's kube-dns Service.
            _ = await services.waitForSync(timeout: .seconds(30))
            if let address = services.clusterIP(namespace: Self.dnsService.namespace, name: Self.dnsService.name),
               IPv4Address(address) != nil {
                dns.nameservers = [address]
            } else {
                logger.warning("no kube-system/kube-dns Service with a cluster IP: pods get the host's DNS")
                return ClusterDNSConfig(domain: dns.domain)
            }
        }
        let listen = subnet.address(at: 1).description
        let records = try ClusterRecordStore(zone: dns.domain, ttl: 5, nameserverAddresses: dns.nameservers)
        services.attach(records)
        let server = DNSServer(config: DNSServerConfig(
            listen: [try SocketAddress(host: listen, port: 53)],
            upstream: UpstreamConfig(resolvConf: config.hostResolvConf)), records: records)
        try server.start()
        group.addTask {
            // Runs until the agent stops; its threads end with it.
            await withTaskCancellationHandler {
                await Self.untilCancelled()
            } onCancel: {
                server.stop()
            }
        }
        logger.info("cluster DNS answering", metadata: ["address": "\(listen):53", "service": "\(dns.nameservers.joined(separator: ","))",
                                                        "domain": "\(dns.domain)"])
        return dns
    }
}

extension ClusterAgent {
    /// Starts the ingress proxy on every address of the node and its feed from the cluster. A
    /// port it cannot listen on (another web server has it) is logged and leaves the rest of the
    /// node running, as a Traefik pod that cannot bind leaves the node's other pods alone.
    func startIngress(_ ingress: ClusterIngressSettings, services: ClusterServices, client: APIClient, events: PodEventRecorder,
                      group: inout ThrowingTaskGroup<Void, any Error>) {
        let config = IngressProxyConfig(http: [.init(host: "0.0.0.0", port: ingress.httpPort)],
                                        https: [.init(host: "0.0.0.0", port: ingress.httpsPort)])
        let feed = ClusterIngress(client: client, events: events, logger: logger)
        services.attach(feed)
        let logger = self.logger
        group.addTask { await feed.run() }
        group.addTask {
            do {
                let proxy = try await IngressProxyServer.start(config: config, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
                feed.serve(with: proxy)
                await Self.untilCancelled()
                await proxy.shutdown(gracePeriod: .seconds(2))
            } catch {
                logger.error("the ingress proxy stopped: Ingresses are not served on this node", metadata: [
                    "error": "\(error)", "http": "\(ingress.httpPort)", "https": "\(ingress.httpsPort)"])
            }
        }
        logger.info("ingress proxy started", metadata: ["http": "\(ingress.httpPort)", "https": "\(ingress.httpsPort)"])
    }
}

extension ClusterAgent {
    /// Returns when the task is cancelled: the lifetime of a service whose own threads or event
    /// loops do the work (the DNS server, the ingress proxy), stopped after it returns.
    static func untilCancelled() async {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }
}

/// A joined agent's setting that cannot work, with what to change.
struct ClusterAgentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
