/// Where the runtime keeps things and the defaults it applies. Every path is configurable so
/// tests (and several agents on one machine) can run side by side.
public struct RuntimeConfig: Sendable {
    /// Persistent state: pod directories (volumes, hosts files), container upper dirs.
    public var stateRoot: String
    /// Runtime state that goes away on reboot: the pod sandboxes' namespace files.
    public var runRoot: String
    /// Parent cgroup of every pod, relative to each hierarchy root (kubelet: "kubepods").
    public var cgroupParent: String
    /// Directory `Localhost` seccomp profiles are read from (kubelet: /var/lib/kubelet/seccomp).
    public var seccompProfileRoot: String
    /// kubelet's `--seccomp-default`: containers without a profile get RuntimeDefault.
    public var seccompDefault: Bool
    /// kubelet's `--pod-max-pids` (-1 = unlimited), applied to the pod cgroup.
    public var podPidsLimit: Int64
    /// Host resolv.conf that pods with dnsPolicy Default (or ClusterFirst without cluster DNS) get.
    public var hostResolvConf: String
    /// The cluster's DNS for ClusterFirst pods (kubelet's --cluster-dns, --cluster-domain).
    public var clusterDNS: ClusterDNSConfig
    /// The `swiftlet-monitor` executable, for containers that must outlive the agent.
    public var monitorPath: String?

    public init(stateRoot: String = "/var/lib/swiftlet/agent", runRoot: String = "/run/swiftlet",
                cgroupParent: String = "swiftlet", seccompProfileRoot: String = "/var/lib/swiftlet/agent/seccomp",
                seccompDefault: Bool = true, podPidsLimit: Int64 = -1, hostResolvConf: String = "/etc/resolv.conf",
                clusterDNS: ClusterDNSConfig = ClusterDNSConfig(), monitorPath: String? = nil) {
        self.stateRoot = stateRoot
        self.runRoot = runRoot
        self.cgroupParent = cgroupParent
        self.seccompProfileRoot = seccompProfileRoot
        self.seccompDefault = seccompDefault
        self.podPidsLimit = podPidsLimit
        self.hostResolvConf = hostResolvConf
        self.clusterDNS = clusterDNS
        self.monitorPath = monitorPath
    }

    public var imageRoot: String { stateRoot + "/images" }
}

/// Paths of one pod, laid out like kubelet's /var/lib/kubelet/pods/<uid>.
public struct PodLayout: Sendable, Equatable {
    public let uid: String
    public let directory: String
    public let namespaces: String

    public init(config: RuntimeConfig, uid: String) {
        self.uid = uid
        directory = config.stateRoot + "/pods/" + uid
        namespaces = config.runRoot + "/pods/" + uid + "/ns"
    }

    public var etcHosts: String { directory + "/etc-hosts" }
    public var etcHostname: String { directory + "/etc-hostname" }
    public var resolvConf: String { directory + "/resolv.conf" }
    public func emptyDir(_ name: String) -> String { directory + "/volumes/kubernetes.io~empty-dir/" + name }
    /// One directory per container start: a restarted container gets a fresh writable layer.
    public func container(_ name: String, attempt: Int) -> String {
        directory + "/containers/" + name + "/" + String(attempt)
    }
    public func cgroup(parent: String) -> String { parent + "/pod" + uid }
    /// One cgroup per start, as containerd gives each container its own: cleaning up an old
    /// start can never touch the current one, and OOM counters start at zero. `_` cannot occur
    /// in a container name (a DNS label), so the path is unambiguous.
    public func containerCgroup(parent: String, name: String, attempt: Int) -> String {
        cgroup(parent: parent) + "/\(name)_\(attempt)"
    }
}
