/// Durations and ranges of the in-server controllers, with kube-controller-manager's defaults.
public struct ControllerSettings: Sendable {
    /// Pod network of the cluster; each node gets a slice of it (--cluster-cidr, k3s: 10.42.0.0/16).
    public var clusterCIDR: String = "10.42.0.0/16"
    /// Prefix length of each node's pod CIDR (--node-cidr-mask-size, 24).
    public var nodeCIDRMaskSize: Int = 24
    /// How long a node may go without renewing its lease before it is NotReady/Unknown
    /// (--node-monitor-grace-period, 40 s).
    public var nodeMonitorGracePeriod: Duration = .seconds(40)
    /// How often node health is checked (--node-monitor-period, 5 s).
    public var nodeMonitorPeriod: Duration = .seconds(5)
    /// The toleration seconds given to pods for the not-ready and unreachable taints
    /// (--default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds, 300).
    public var defaultTolerationSeconds: Int64 = 300
    /// Finished pods kept before the pod GC deletes the oldest (--terminated-pod-gc-threshold, 12500).
    public var terminatedPodGCThreshold: Int = 12500
    /// How often the pod GC looks for orphaned and excess finished pods (kube-controller-manager: 20 s).
    public var podGCPeriod: Duration = .seconds(20)
    /// How often unschedulable pods are retried even when nothing changed (kube-scheduler's
    /// flush of unschedulable pods; 30 s).
    public var schedulerRetryPeriod: Duration = .seconds(30)
    /// How long the namespace controller waits before looking again at a namespace whose
    /// contents are still going away (pods terminating gracefully).
    public var namespaceRecheckPeriod: Duration = .seconds(2)
    /// How often every ResourceQuota's usage is recounted even when nothing signalled a
    /// change (--resource-quota-sync-period, 5 minutes).
    public var resourceQuotaSyncPeriod: Duration = .seconds(300)

    /// The Service network (--service-cidr, k3s: 10.43.0.0/16); its first address is the
    /// `kubernetes` Service's.
    public var serviceCIDR: String = "10.43.0.0/16"
    /// The cluster IP of `kube-system/kube-dns` (--cluster-dns, k3s: 10.43.0.10); nil: no
    /// kube-dns Service is kept.
    public var clusterDNS: String? = "10.43.0.10"
    /// Endpoints per EndpointSlice (kube-controller-manager's --max-endpoints-per-slice, 100).
    public var maxEndpointsPerSlice: Int = 100
    /// Where the API server is reached from pods and nodes: the `kubernetes` Service's
    /// endpoints (kube-apiserver's --advertise-address and --secure-port). Empty: the
    /// endpoints are not managed (a control plane without an HTTPS listener).
    public var apiServerAddresses: [String] = []
    public var apiServerPort: Int = 6443
    /// How often the `kubernetes` Service's endpoints are checked (kube-apiserver's
    /// --endpoint-reconciler interval, 10 s).
    public var apiServerEndpointsInterval: Duration = .seconds(10)
    /// When several servers share the datastore: this server's identity in its lease
    /// `kube-system/apiserver-<address>`, renewed every `apiServerEndpointsInterval`, and the
    /// `kubernetes` endpoints list every server with a live lease (kube-apiserver's lease
    /// endpoint reconciler). nil: the endpoints list this server only.
    public var apiServerLeaseIdentity: String?
    /// How long a server's lease lives unrenewed (upstream's DefaultEndpointReconcilerTTL, 15 s).
    public var apiServerLeaseDuration: Duration = .seconds(15)

    /// Where the local-path provisioner puts volumes on their node (k3s'
    /// --default-local-storage-path); nil: no provisioner runs (--disable-local-storage).
    public var localStoragePath: String? = "/var/lib/swiftlet/storage"

    /// The cluster CA (PEM) the root-ca-cert-publisher keeps in every namespace's
    /// `kube-root-ca.crt` ConfigMap; nil: no such ConfigMaps are kept (no HTTPS listener).
    public var rootCACertificatePEM: String?

    /// Which controllers run (kube-controller-manager's --controllers): `*` is every
    /// controller, `NAME` enables one, `-NAME` disables one; the first entry naming a
    /// controller decides, and without `*` only the controllers named run. Names are
    /// `ControllerManager.controllerNames`; check a list with `unknownControllers`.
    public var controllers: [String] = ["*"]

    /// Whether the controller called `name` runs (upstream's `IsControllerEnabled`).
    public func runs(_ name: String) -> Bool {
        var star = false
        for entry in controllers {
            if entry == name { return true }
            if entry == "-" + name { return false }
            if entry == "*" { star = true }
        }
        return star
    }

    /// The names in `controllers` (without a leading `-`) that name no controller
    /// (kube-controller-manager refuses them: `"foo" is not in the list of known controllers`).
    public var unknownControllers: [String] {
        controllers.filter { $0 != "*" }.map { $0.hasPrefix("-") ? String($0.dropFirst()) : $0 }
            .filter { !ControllerManager.controllerNames.contains($0) }
    }

    public init() {}
}
