import APIMachinery
import KubeAPI

/// The API objects a pod names, found the way Kubernetes finds them
/// (pkg/api/v1/pod/util.go `VisitPodSecretNames`, `VisitPodConfigmapNames`, and the Node
/// authorizer's graph populator, plugin/pkg/auth/authorizer/node/graph_populator.go): in every
/// container (init, regular, ephemeral) `env[].valueFrom` and `envFrom`, the pod's
/// `imagePullSecrets`, its volumes (including projected sources and the secret references of
/// the storage plugins), its ServiceAccount, and the claims its volumes make.
///
/// NodeRestriction refuses mirror pods that name any of them; the node authorizer lets a node
/// read exactly those named by the pods bound to it.
struct PodReferences: Equatable {
    /// Secret names; `hasSecrets` is true also for a reference without a name.
    var secrets: Set<String> = []
    var hasSecrets = false
    var configMaps: Set<String> = []
    var hasConfigMaps = false
    /// Claims of `persistentVolumeClaim` volumes, and `<pod>-<volume>` of ephemeral ones.
    var persistentVolumeClaims: Set<String> = []
    var hasPersistentVolumeClaims = false
    var serviceAccount: String?
    var hasResourceClaims = false
    var hasClusterTrustBundles = false

    init(pod: KubeObject) {
        let spec = pod.fields["spec"] ?? .null
        if let account = spec["serviceAccountName"]?.stringValue, !account.isEmpty {
            serviceAccount = account
        }
        for reference in spec["imagePullSecrets"]?.arrayValue ?? [] {
            secret(reference["name"])
        }
        for key in ["initContainers", "containers", "ephemeralContainers"] {
            for container in spec[key]?.arrayValue ?? [] {
                for source in container["envFrom"]?.arrayValue ?? [] {
                    if let reference = source["secretRef"] { secret(reference["name"]) }
                    if let reference = source["configMapRef"] { configMap(reference["name"]) }
                }
                for variable in container["env"]?.arrayValue ?? [] {
                    if let reference = variable["valueFrom"]?["secretKeyRef"] { secret(reference["name"]) }
                    if let reference = variable["valueFrom"]?["configMapKeyRef"] { configMap(reference["name"]) }
                }
            }
        }
        let podName = pod.name ?? ""
        for volume in spec["volumes"]?.arrayValue ?? [] {
            if let source = volume["secret"] { secret(source["secretName"]) }
            if let source = volume["configMap"] { configMap(source["name"]) }
            if let source = volume["azureFile"] { secret(source["secretName"]) }
            // The storage plugins that take a LocalObjectReference to a Secret.
            for plugin in ["cephfs", "cinder", "flexVolume", "rbd", "scaleIO", "iscsi", "storageos"] {
                if let reference = volume[plugin]?["secretRef"] { secret(reference["name"]) }
            }
            if let reference = volume["csi"]?["nodePublishSecretRef"] { secret(reference["name"]) }
            for projection in volume["projected"]?["sources"]?.arrayValue ?? [] {
                if let source = projection["secret"] { secret(source["name"]) }
                if let source = projection["configMap"] { configMap(source["name"]) }
                if projection["clusterTrustBundle"] != nil { hasClusterTrustBundles = true }
            }
            if let claim = volume["persistentVolumeClaim"] {
                hasPersistentVolumeClaims = true
                if let name = claim["claimName"]?.stringValue, !name.isEmpty { persistentVolumeClaims.insert(name) }
            }
            if volume["ephemeral"] != nil, let name = volume["name"]?.stringValue {
                // An ephemeral volume's claim is named after the pod and the volume.
                persistentVolumeClaims.insert("\(podName)-\(name)")
            }
        }
        if let claims = spec["resourceClaims"]?.arrayValue, !claims.isEmpty {
            hasResourceClaims = true
        }
    }

    private mutating func secret(_ name: JSONValue?) {
        hasSecrets = true
        if let name = name?.stringValue, !name.isEmpty { secrets.insert(name) }
    }

    private mutating func configMap(_ name: JSONValue?) {
        hasConfigMaps = true
        if let name = name?.stringValue, !name.isEmpty { configMaps.insert(name) }
    }

    /// Whether the pod names the object `name` of `resource` (secrets, configmaps,
    /// persistentvolumeclaims, serviceaccounts).
    func names(_ resource: String, _ name: String) -> Bool {
        switch resource {
        case "secrets": return secrets.contains(name)
        case "configmaps": return configMaps.contains(name)
        case "persistentvolumeclaims": return persistentVolumeClaims.contains(name)
        case "serviceaccounts": return serviceAccount == name
        default: return false
        }
    }
}
