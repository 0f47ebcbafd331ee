import Foundation
import KubeAPI

/// /etc/hosts, /etc/hostname and /etc/resolv.conf of a pod, written once into the pod
/// directory and bound into every container (kubelet's managed hosts file and DNS config).
public enum HostFiles {
    /// The pod's hostname: spec.hostname, else the pod name, cut to 63 characters (kubelet's
    /// GeneratePodHostNameAndDomain truncates the same way).
    public static func hostname(for pod: Pod) -> String {
        let name = pod.spec.hostname ?? pod.metadata.name ?? "pod"
        var cut = String(name.prefix(63))
        while cut.hasSuffix("-") || cut.hasSuffix(".") { cut.removeLast() }
        return cut
    }

    /// kubelet's managedHostsFileContent.
    public static func hosts(for pod: Pod, podIPs: [String], clusterDomain: String = "cluster.local") -> String {
        var lines = [
            "# Kubernetes-managed hosts file.",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            "fe00::0\tip6-localnet",
            "fe00::0\tip6-mcastprefix",
            "fe00::1\tip6-allnodes",
            "fe00::2\tip6-allrouters",
        ]
        let hostname = hostname(for: pod)
        for ip in podIPs {
            if let subdomain = pod.spec.subdomain, !subdomain.isEmpty {
                let fqdn = "\(hostname).\(subdomain).\(pod.metadata.namespace ?? "default").svc.\(clusterDomain)"
                lines.append("\(ip)\t\(fqdn)\t\(hostname)")
            } else {
                lines.append("\(ip)\t\(hostname)")
            }
        }
        if let aliases = pod.spec.hostAliases, !aliases.isEmpty {
            lines.append("")
            lines.append("# Entries added by HostAliases.")
            for alias in aliases {
                lines.append("\(alias.ip)\t\((alias.hostnames ?? []).joined(separator: "\t"))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the three files into the pod directory.
    /// resolv.conf comes from the host's file and the cluster's DNS (`PodDNS`, kubelet's rules).
    public static func write(for pod: Pod, layout: PodLayout, podIPs: [String], hostResolvConf: String,
                             clusterDNS: ClusterDNSConfig) throws {
        try AtomicFile.write(hosts(for: pod, podIPs: podIPs, clusterDomain: clusterDNS.domain), to: layout.etcHosts)
        try AtomicFile.write(hostname(for: pod) + "\n", to: layout.etcHostname)
        let host = (try? String(contentsOfFile: hostResolvConf, encoding: .utf8)) ?? ""
        try AtomicFile.write(PodDNS.build(for: pod, hostResolvConf: host, cluster: clusterDNS).resolvConf, to: layout.resolvConf)
    }
}
