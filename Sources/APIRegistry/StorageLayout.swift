import APIMachinery

/// Where each resource's objects live in the store: kube-apiserver's etcd layout, so that the
/// keys of a swiftlet cluster's etcd read as those of any Kubernetes cluster
/// (`etcdctl get --prefix /registry/deployments/`) and tools that read etcd directly find them.
///
/// kube-apiserver stores a built-in resource under `/registry/<resource>/[<namespace>/]<name>`,
/// whatever its group (pkg/kubeapiserver/default_storage_factory_builder.go: the prefix of a
/// resource is its plural name), except for the legacy prefixes compiled into it
/// (`SpecialDefaultResourcePrefixes`): nodes under `minions`, services under `services/specs`,
/// endpoints under `services/endpoints`, replication controllers under `controllers`, ingresses
/// under `ingress`. Resources that share storage (events.k8s.io's events are the core events)
/// share one prefix.
public enum StorageLayout {
    /// kube-apiserver's `SpecialDefaultResourcePrefixes`, for the resources swiftlet serves.
    static let specialPrefixes: [GroupResource: String] = [
        GroupResource(group: "", resource: "replicationcontrollers"): "controllers",
        GroupResource(group: "", resource: "endpoints"): "services/endpoints",
        GroupResource(group: "", resource: "nodes"): "minions",
        GroupResource(group: "", resource: "services"): "services/specs",
        GroupResource(group: "networking.k8s.io", resource: "ingresses"): "ingress",
    ]

    /// The key prefix of a stored resource (`/registry/pods/`, `/registry/deployments/`,
    /// `/registry/services/specs/`).
    public static func keyPrefix(of stored: GroupResource) -> String {
        "/registry/\(specialPrefixes[stored] ?? stored.resource)/"
    }

    /// The prefix swiftlet used before it followed kube-apiserver's layout (until December
    /// 2026): `/registry/<group>/<resource>/` for named groups, `/registry/<resource>/` for the
    /// core group. Only `StorageLayoutMigration` reads it.
    static func earlierKeyPrefix(of stored: GroupResource) -> String {
        "/registry/\(stored.group.isEmpty ? "" : stored.group + "/")\(stored.resource)/"
    }
}

extension APIResource {
    /// The resource whose stored objects this one reads and writes: itself, or the resource
    /// it shares storage with.
    public var storedResource: GroupResource { storedAs ?? groupResource }

    /// The store key prefix of all objects of this resource (`StorageLayout`).
    public var keyPrefix: String { StorageLayout.keyPrefix(of: storedResource) }
}
