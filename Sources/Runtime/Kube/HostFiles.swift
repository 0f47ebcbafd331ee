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

    /// resolv.conf by dnsPolicy. Without cluster DNS (no server yet), ClusterFirst falls back to
    /// the host's file as kubelet does; `None` uses only spec.dnsConfig, others merge it in.
    public static func resolvConf(for pod: Pod, hostFile: String) -> String {
        let policy = pod.spec.dnsPolicy ?? "ClusterFirst"
        var nameservers: [String] = []
        var searches: [String] = []
        var options: [String] = []
        if policy != "None" {
            let host = (try? String(contentsOfFile: hostFile, encoding: .utf8)) ?? ""
            for line in host.split(separator: "\n") {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard let key = fields.first else { continue }
                switch key {
                case "nameserver": nameservers += fields.dropFirst()
                case "search": searches = Array(fields.dropFirst())
                case "options": options += fields.dropFirst()
                default: break
                }
            }
        }
        if let config = pod.spec.dnsConfig {
            nameservers += config.nameservers ?? []
            searches += config.searches ?? []
            for option in config.options ?? [] {
                options.append(option.value.map { "\(option.name ?? ""):\($0)" } ?? (option.name ?? ""))
            }
        }
        // glibc reads at most 3 nameservers and 6 search domains (kubelet trims the same way).
        var text = ""
        if !searches.isEmpty { text += "search " + searches.prefix(6).joined(separator: " ") + "\n" }
        for server in nameservers.prefix(3) { text += "nameserver \(server)\n" }
        if !options.isEmpty { text += "options " + options.joined(separator: " ") + "\n" }
        return text
    }

    /// Writes the three files into the pod directory.
    public static func write(for pod: Pod, layout: PodLayout, podIPs: [String], hostResolvConf: String) throws {
        try hosts(for: pod, podIPs: podIPs).write(toFile: layout.etcHosts, atomically: true, encoding: .utf8)
        try (hostname(for: pod) + "\n").write(toFile: layout.etcHostname, atomically: true, encoding: .utf8)
        try resolvConf(for: pod, hostFile: hostResolvConf).write(toFile: layout.resolvConf, atomically: true, encoding: .utf8)
    }
}
