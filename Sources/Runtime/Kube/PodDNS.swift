import Foundation
import KubeAPI

/// The cluster's DNS as the node knows it: kubelet's `--cluster-dns` and `--cluster-domain`.
public struct ClusterDNSConfig: Sendable, Equatable {
    /// Nameserver addresses pods with a ClusterFirst policy get (the kube-dns Service IP);
    /// empty when the node has no cluster DNS (static pods without a server).
    public var nameservers: [String]
    /// The cluster domain ("cluster.local").
    public var domain: String

    public init(nameservers: [String] = [], domain: String = "cluster.local") {
        self.nameservers = nameservers
        self.domain = domain
    }
}

/// A pod's resolv.conf, as kubelet's DNS configurer builds it
/// (pkg/kubelet/network/dns/dns.go: `GetPodDNS`, `getPodDNSType`, `appendDNSConfig`,
/// `formDNSSearchFitsLimits`) and containerd writes it.
public struct PodDNS: Sendable, Equatable {
    public var nameservers: [String] = []
    public var searches: [String] = []
    public var options: [String] = []

    /// kubelet's limits (pkg/apis/core/validation: MaxDNSSearchPaths, MaxDNSSearchListChars)
    /// and glibc's three nameservers.
    static let maxNameservers = 3
    static let maxSearchPaths = 32
    static let maxSearchListCharacters = 2048

    /// Which file a pod's policy asks for.
    enum Kind: Equatable {
        case cluster, host, none
    }

    /// `getPodDNSType`: ClusterFirst on the host network means the host's DNS (only
    /// ClusterFirstWithHostNet gives such pods the cluster's); a cluster policy on a node
    /// without cluster DNS falls back to the host's, as kubelet does with a warning.
    static func kind(for pod: Pod, cluster: ClusterDNSConfig) -> Kind {
        let hostNetwork = pod.spec.hostNetwork ?? false
        let wanted: Kind
        switch pod.spec.dnsPolicy ?? "ClusterFirst" {
        case "None": wanted = .none
        case "Default": wanted = .host
        case "ClusterFirstWithHostNet": wanted = .cluster
        default: wanted = hostNetwork ? .host : .cluster
        }
        if wanted == .cluster, cluster.nameservers.isEmpty { return .host }
        return wanted
    }

    /// The DNS settings of `pod`, from the host's resolv.conf text and the cluster's DNS.
    public static func build(for pod: Pod, hostResolvConf: String, cluster: ClusterDNSConfig) -> PodDNS {
        let host = parse(hostResolvConf)
        var dns = PodDNS()
        switch kind(for: pod, cluster: cluster) {
        case .none:
            break
        case .host:
            dns = host
        case .cluster:
            dns.nameservers = cluster.nameservers
            // <ns>.svc.<domain> svc.<domain> <domain>, then the host's search list.
            let namespace = pod.metadata.namespace ?? "default"
            var searches: [String] = []
            if !cluster.domain.isEmpty {
                searches = ["\(namespace).svc.\(cluster.domain)", "svc.\(cluster.domain)", cluster.domain]
            }
            dns.searches = searches + host.searches
            dns.options = ["ndots:5"]
        }
        if let config = pod.spec.dnsConfig {
            dns.nameservers = appendingNew(config.nameservers ?? [], to: dns.nameservers)
            dns.searches = appendingNew(config.searches ?? [], to: dns.searches)
            dns.options = merged(dns.options, config.options ?? [])
        }
        dns.nameservers = Array(dns.nameservers.prefix(maxNameservers))
        dns.searches = fittingLimits(dns.searches)
        return dns
    }

    /// The file's text: `search`, `nameserver` and `options` lines, as containerd writes them.
    public var resolvConf: String {
        var text = ""
        if !searches.isEmpty { text += "search " + searches.joined(separator: " ") + "\n" }
        for server in nameservers { text += "nameserver \(server)\n" }
        if !options.isEmpty { text += "options " + options.joined(separator: " ") + "\n" }
        return text
    }

    /// The nameservers, search domains and options of a resolv.conf (the last `search` line
    /// wins, as in glibc; `domain` is an old spelling of a one-entry search list).
    static func parse(_ text: String) -> PodDNS {
        var dns = PodDNS()
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let key = fields.first, !key.hasPrefix("#"), !key.hasPrefix(";") else { continue }
            switch key {
            case "nameserver": dns.nameservers += fields.dropFirst()
            case "search", "domain": dns.searches = Array(fields.dropFirst())
            case "options": dns.options += fields.dropFirst()
            default: break
            }
        }
        return dns
    }

    /// `appendDNSConfig`'s `omitDuplicates`: the pod's entries after the existing ones, each once.
    private static func appendingNew(_ extra: [String], to existing: [String]) -> [String] {
        var result: [String] = []
        for entry in existing + extra where !result.contains(entry) { result.append(entry) }
        return result
    }

    /// `mergeDNSOptions`: an option of the pod replaces one of the same name.
    private static func merged(_ base: [String], _ extra: [PodDNSConfigOption]) -> [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        func add(_ name: String, _ text: String) {
            if values[name] == nil { order.append(name) }
            values[name] = text
        }
        for option in base {
            add(String(option.split(separator: ":", maxSplits: 1).first ?? ""), option)
        }
        for option in extra {
            let name = option.name ?? ""
            add(name, option.value.map { "\(name):\($0)" } ?? name)
        }
        return order.compactMap { values[$0] }
    }

    /// `formDNSSearchFitsLimits`: at most 32 domains and 2048 characters, cut at the end.
    private static func fittingLimits(_ searches: [String]) -> [String] {
        var kept = Array(searches.prefix(maxSearchPaths))
        while !kept.isEmpty, kept.joined(separator: " ").utf8.count > maxSearchListCharacters {
            kept.removeLast()
        }
        return kept
    }
}
