import ArgumentParser
import ClusterAgent

/// The flags of a joined node's work for Services besides its pods, shared by `swiftlet agent`
/// and the agent `swiftlet server` runs: the service proxy (kube-proxy), the cluster DNS
/// (CoreDNS) and the ingress proxy (k3s' Traefik), each of which k3s lets a user turn off.
struct NodeServiceOptions: ParsableArguments {
    @Flag(help: "Do not program Services into this node's nftables (k3s' --disable-kube-proxy).")
    var disableKubeProxy = false

    @Flag(help: "Do not answer cluster DNS on this node; its pods get the host's DNS (k3s: --disable coredns).")
    var disableClusterDNS = false

    @Flag(help: "Do not serve Ingresses on this node (k3s: --disable traefik); the node is labelled node.swiftlet.io/ingress=disabled and left out of the Ingresses' addresses.")
    var disableIngress = false

    @Option(help: "The port the ingress proxy serves HTTP on.")
    var ingressHttpPort = 80

    @Option(help: "The port the ingress proxy serves HTTPS on (certificates from the Ingresses' TLS Secrets, chosen by SNI).")
    var ingressHttpsPort = 443

    /// The settings, every flag checked.
    func settings(serviceCIDR: String, podNetwork: Bool) throws -> ClusterServiceSettings {
        for (flag, port) in [("--ingress-http-port", ingressHttpPort), ("--ingress-https-port", ingressHttpsPort)] where !(1...65535).contains(port) {
            throw CLIError("\(flag) \(port): must be a port between 1 and 65535")
        }
        if ingressHttpPort == ingressHttpsPort {
            throw CLIError("--ingress-http-port and --ingress-https-port are both \(ingressHttpPort): give them different ports")
        }
        return ClusterServiceSettings(serviceCIDR: serviceCIDR, serviceProxy: !disableKubeProxy, clusterDNS: !disableClusterDNS,
                                      ingress: servesIngress(podNetwork: podNetwork)
                                          ? ClusterIngressSettings(httpPort: ingressHttpPort, httpsPort: ingressHttpsPort) : nil)
    }

    /// The ingress proxy reaches pods over the pod network's routes, so it needs them.
    func servesIngress(podNetwork: Bool) -> Bool { podNetwork && !disableIngress }
}
