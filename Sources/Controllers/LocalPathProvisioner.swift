import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// The volume provisioner k3s ships (rancher/local-path-provisioner, class `local-path`), built
/// into the server: a claim of a class whose provisioner is `rancher.io/local-path` gets a
/// hostPath volume in a directory of its own on one node.
///
/// The class binds WaitForFirstConsumer, so the claim waits until the scheduler puts its first
/// pod on a node and marks the claim with `volume.kubernetes.io/selected-node`; then the
/// provisioner makes the PersistentVolume `pvc-<claim uid>`: capacity and access modes of the
/// claim, the class's reclaim policy, a `local` source at
/// `<storage path>/pvc-<uid>_<namespace>_<name>` (k3s' class asks for `local` volumes with its
/// `defaultVolumeType` annotation; `hostPath` with type DirectoryOrCreate otherwise, the
/// provisioner's own default), node affinity to the selected node's `kubernetes.io/hostname`,
/// and a claimRef to the claim, so the binder binds the two at once. Claims with other access
/// modes than ReadWriteOnce and ReadWriteOncePod, or with a selector, are refused with the
/// provisioner's messages. Events as the external provisioner library writes them
/// (Provisioning, ProvisioningSucceeded, ProvisioningFailed).
///
/// Differences from the upstream provisioner: no helper pods. Its setup script
/// (`mkdir -m 0777 -p`) is done by the agent when it mounts the volume (a volume with this
/// provisioner's `pv.kubernetes.io/provisioned-by`), its teardown (`rm -rf`) by the agent of the
/// volume's node after the Delete policy removed the volume object (docs/volumes.md); one
/// storage path for every node (`--default-local-storage-path`).
struct LocalPathProvisioner: Controller {
    let name = "local-path-provisioner"
    static let provisionerName = "rancher.io/local-path"
    /// The class k3s makes (manifests/local-storage.yaml) and this server too, at start.
    static let className = "local-path"
    /// Where the provisioner notes the node (local-path-provisioner's own annotation).
    static let nodeAnnotation = "local.path.provisioner/selected-node"
    /// The class annotation that chooses the volume source (`local` or `hostPath`).
    static let volumeTypeAnnotation = "defaultVolumeType"

    private let client: any ResourceClient
    private let claims: Informer
    private let classes: Informer
    private let volumes: Informer
    private let queue = WorkQueue()
    private let storagePath: String
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, storagePath: String, logger: Logger) {
        self.client = client
        self.claims = informers.informer(.persistentVolumeClaims)
        self.classes = informers.informer(.storageClasses)
        self.volumes = informers.informer(.persistentVolumes)
        self.storagePath = storagePath
        self.logger = logger
        let queue = self.queue
        claims.addHandler { event in
            if case .deleted = event { return }
            let key = Informer.key(of: event.object)
            Task { await queue.add(key) }
        }
    }

    func run() async {
        await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in try await sync(key) }
    }

    private func sync(_ key: String) async throws(APIError) {
        guard let claim = claims.get(key: key), claim.deletionTimestamp == nil,
              (claim.string(at: ["spec", "volumeName"]) ?? "").isEmpty,
              claim.annotations[KubeObject.storageProvisionerAnnotation] == Self.provisionerName,
              let storageClass = classes.get(namespace: nil, name: claim.storageClassName) else { return }
        let volumeName = "pvc-" + (claim.uid ?? "")
        guard volumes.get(namespace: nil, name: volumeName) == nil else { return }
        guard let node = claim.annotations[KubeObject.selectedNodeAnnotation], !node.isEmpty else {
            // local-path-provisioner's message for a claim of an Immediate class.
            await event(claim, "Warning", "ProvisioningFailed",
                        "failed to provision volume with StorageClass \"\(storageClass.name ?? "")\": configuration error, no node was specified")
            return
        }
        let namespace = claim.namespace ?? "", claimName = claim.name ?? ""
        let className = storageClass.name ?? ""
        if let problem = Self.unsupported(claim) {
            await event(claim, "Warning", "ProvisioningFailed", "failed to provision volume with StorageClass \"\(className)\": \(problem)")
            return
        }
        await event(claim, "Normal", "Provisioning", "External provisioner is provisioning volume for claim \"\(namespace)/\(claimName)\"")
        let path = storagePath + "/" + volumeName + "_" + namespace + "_" + claimName
        var claimRef: [String: JSONValue] = ["kind": .string("PersistentVolumeClaim"), "namespace": .string(namespace),
                                             "name": .string(claimName), "uid": .string(claim.uid ?? ""), "apiVersion": .string("v1")]
        if let version = claim.resourceVersion { claimRef["resourceVersion"] = .string(version) }
        // The claim's `volumeType` annotation, else the class's `defaultVolumeType`, else hostPath.
        let volumeType = claim.annotations["volumeType"] ?? storageClass.annotations[Self.volumeTypeAnnotation] ?? "hostPath"
        let source: (key: String, value: JSONValue) = volumeType == "local"
            ? ("local", .object(["path": .string(path)]))
            : ("hostPath", .object(["path": .string(path), "type": .string("DirectoryOrCreate")]))
        let volume = KubeObject(fields: [
            "apiVersion": .string("v1"), "kind": .string("PersistentVolume"),
            "metadata": .object([
                "name": .string(volumeName),
                "annotations": .object([KubeObject.provisionedByAnnotation: .string(Self.provisionerName),
                                        Self.nodeAnnotation: .string(node)]),
            ]),
            "spec": .object([
                "capacity": .object(["storage": claim.value(at: ["spec", "resources", "requests", "storage"]) ?? .string("0")]),
                "accessModes": claim.value(at: ["spec", "accessModes"]) ?? .array([]),
                "persistentVolumeReclaimPolicy": .string(storageClass.string(at: ["reclaimPolicy"]) ?? "Delete"),
                "storageClassName": .string(storageClass.name ?? ""),
                "volumeMode": .string("Filesystem"),
                source.key: source.value,
                "nodeAffinity": .object(["required": .object(["nodeSelectorTerms": .array([.object(["matchExpressions": .array([
                    .object(["key": .string("kubernetes.io/hostname"), "operator": .string("In"), "values": .array([.string(node)])]),
                ])])])])]),
                "claimRef": .object(claimRef),
            ]),
        ])
        do {
            _ = try await client.create(.persistentVolumes, namespace: nil, volume)
        } catch let error where error.code == 409 {
            return  // made by an earlier attempt
        } catch {
            await event(claim, "Warning", "ProvisioningFailed",
                        "failed to provision volume with StorageClass \"\(className)\": \(error.message)")
            throw error
        }
        await event(claim, "Normal", "ProvisioningSucceeded", "Successfully provisioned volume \(volumeName)")
    }

    /// What the provisioner refuses (provisioner.go `provisionFor`), nil when it can provision.
    static func unsupported(_ claim: KubeObject) -> String? {
        if let selector = claim.value(at: ["spec", "selector"]), selector != .null { return "claim.Spec.Selector is not supported" }
        if claim.accessModes.contains(where: { $0 != "ReadWriteOnce" && $0 != "ReadWriteOncePod" }) {
            return "NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes"
        }
        if claim.volumeMode != "Filesystem" { return "only Filesystem volumes are supported" }
        return nil
    }

    private func event(_ object: KubeObject, _ type: String, _ reason: String, _ message: String) async {
        await client.recordEvent(about: object, type: type, reason: reason, message: message,
                                 component: Self.provisionerName + "_swiftlet")
    }
}
