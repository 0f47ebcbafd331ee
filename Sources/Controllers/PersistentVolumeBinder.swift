import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's persistentvolume-binder (pkg/controller/volume/persistentvolume/
/// pv_controller.go): binds claims to volumes and keeps both phases.
///
/// Claims (`syncClaim`): an unbound claim gets the best Available volume (`VolumeMatcher`) or
/// the one its `spec.volumeName` names; without one it waits: for its first pod when its class
/// binds WaitForFirstConsumer, for the class's provisioner when it has one (the claim is
/// annotated with `volume.kubernetes.io/storage-provisioner`), and otherwise with a
/// FailedBinding event. A bound claim whose volume went away or was bound elsewhere is Lost.
///
/// Volumes (`syncVolume`): Available without a claim reference; Bound while their claim is;
/// Released when the claim they were bound to is gone, then reclaimed by their policy: Retain
/// keeps them, Delete removes volumes that a provisioner made (the provisioner's own delete)
/// and fails the others (no in-tree deleter here), Recycle fails (deprecated upstream).
///
/// Binding writes in upstream's order: the volume's `claimRef` (with
/// `pv.kubernetes.io/bound-by-controller`), the volume's phase, the claim's `volumeName` (with
/// `pv.kubernetes.io/bind-completed`), then the claim's status (phase, capacity, access modes
/// from the volume). Each step is idempotent, so a sync interrupted by a conflict finishes on
/// the next.
struct PersistentVolumeBinder: Controller {
    let name = "persistentvolume-binder"
    /// The event source of upstream's controller.
    static let component = "persistentvolume-controller"

    private let client: any ResourceClient
    private let volumes: Informer
    private let claims: Informer
    private let classes: Informer
    private let claimQueue = WorkQueue()
    private let volumeQueue = WorkQueue()
    private let logger: Logger
    /// The provisioners whose volumes this server deletes itself on reclaim (`LocalPathProvisioner`).
    private let deletableProvisioners: Set<String>

    init(client: any ResourceClient, informers: Informers, logger: Logger,
         deletableProvisioners: Set<String> = [LocalPathProvisioner.provisionerName]) {
        self.client = client
        self.volumes = informers.informer(.persistentVolumes)
        self.claims = informers.informer(.persistentVolumeClaims)
        self.classes = informers.informer(.storageClasses)
        self.logger = logger
        self.deletableProvisioners = deletableProvisioners
        let claimQueue = self.claimQueue, volumeQueue = self.volumeQueue, claims = self.claims
        claims.addHandler { event in
            if case .deleted(let claim) = event {
                // The volumes bound to it become Released.
                guard let name = claim.string(at: ["spec", "volumeName"]), !name.isEmpty else { return }
                Task { await volumeQueue.add(name) }
                return
            }
            let key = Informer.key(of: event.object)
            Task { await claimQueue.add(key) }
        }
        volumes.addHandler { event in
            let volume = event.object
            if case .deleted = event {
                // Its claim becomes Lost.
                if let ref = volume.claimRef { Task { await claimQueue.add(Informer.key(namespace: ref.namespace, name: ref.name)) } }
                return
            }
            Task { await volumeQueue.add(volume.name ?? "") }
            // A claim waiting for a volume may match this one now.
            if let ref = volume.claimRef {
                Task { await claimQueue.add(Informer.key(namespace: ref.namespace, name: ref.name)) }
            } else if volume.phase == "Available" {
                let pending = claims.list().filter { $0.phase != "Bound" && $0.deletionTimestamp == nil }.map(Informer.key(of:))
                Task { for key in pending { await claimQueue.add(key) } }
            }
        }
        classes.addHandler { event in
            let name = event.object.name ?? ""
            let waiting = claims.list().filter { $0.phase != "Bound" && $0.storageClassName == name }.map(Informer.key(of:))
            Task { for key in waiting { await claimQueue.add(key) } }
        }
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await runWorkers(name: name, queue: claimQueue, workers: 1, logger: logger) { key in try await syncClaim(key) } }
            group.addTask { await runWorkers(name: name, queue: volumeQueue, workers: 1, logger: logger) { key in try await syncVolume(key) } }
        }
    }

    // MARK: - Claims

    private func syncClaim(_ key: String) async throws(APIError) {
        guard let claim = claims.get(key: key) else { return }
        if claim.annotations[KubeObject.bindCompletedAnnotation] == nil {
            try await syncUnboundClaim(claim)
        } else {
            try await syncBoundClaim(claim)
        }
    }

    private func syncUnboundClaim(_ claim: KubeObject) async throws(APIError) {
        let volumeName = claim.string(at: ["spec", "volumeName"]) ?? ""
        guard volumeName.isEmpty else {
            // The user named the volume (`spec.volumeName`).
            guard let volume = volumes.get(namespace: nil, name: volumeName) else {
                try await setClaimPhase(claim, "Pending")
                return
            }
            if volume.claimRef == nil || volume.isVolumeBound(to: claim) {
                if volume.claimRef == nil, let problem = VolumeMatcher.mismatch(volume, for: claim) {
                    await event(claim, "Warning", "VolumeMismatch", "Cannot bind to requested volume \"\(volumeName)\": \(problem)")
                    try await setClaimPhase(claim, "Pending")
                    return
                }
                try await bind(volume, claim)
            } else {
                await event(claim, "Warning", "FailedBinding", "volume \"\(volumeName)\" already bound to a different claim.")
                try await setClaimPhase(claim, "Pending")
            }
            return
        }
        let className = claim.storageClassName
        let storageClass = className.isEmpty ? nil : classes.get(namespace: nil, name: className)
        let delayBinding = storageClass?.string(at: ["volumeBindingMode"]) == "WaitForFirstConsumer"
        if let volume = VolumeMatcher.bestMatch(for: claim, in: volumes.list(), delayBinding: delayBinding) {
            try await bind(volume, claim)
            return
        }
        try await setClaimPhase(claim, "Pending")
        if delayBinding, claim.annotations[KubeObject.selectedNodeAnnotation] == nil {
            await event(claim, "Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
            return
        }
        guard !className.isEmpty else {
            await event(claim, "Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set")
            return
        }
        guard let storageClass else {
            await event(claim, "Warning", "ProvisioningFailed", "storageclass.storage.k8s.io \"\(className)\" not found")
            return
        }
        // No in-tree provisioners here: every class's provisioner is "external" to this
        // controller, which marks the claim for it and waits.
        let provisioner = storageClass.string(at: ["provisioner"]) ?? ""
        if claim.annotations[KubeObject.storageProvisionerAnnotation] != provisioner {
            var marked = claim
            var annotations = marked.metadata["annotations"]?.objectValue ?? [:]
            annotations[KubeObject.storageProvisionerAnnotation] = .string(provisioner)
            annotations[KubeObject.betaStorageProvisionerAnnotation] = .string(provisioner)
            marked.set(.object(annotations), at: ["metadata", "annotations"])
            _ = try await client.update(.persistentVolumeClaims, marked)
        }
        await event(claim, "Normal", "ExternalProvisioning", """
            Waiting for a volume to be created either by the external provisioner '\(provisioner)' or manually by the system \
            administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.
            """)
    }

    private func syncBoundClaim(_ claim: KubeObject) async throws(APIError) {
        let volumeName = claim.string(at: ["spec", "volumeName"]) ?? ""
        if volumeName.isEmpty {
            try await lose(claim, reason: "ClaimLost", "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
            return
        }
        guard let volume = volumes.get(namespace: nil, name: volumeName) else {
            try await lose(claim, reason: "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
            return
        }
        if volume.claimRef == nil || volume.isVolumeBound(to: claim) {
            try await bind(volume, claim)
        } else {
            try await lose(claim, reason: "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly")
        }
    }

    private func lose(_ claim: KubeObject, reason: String, _ message: String) async throws(APIError) {
        guard claim.phase != "Lost" else { return }
        try await setClaimPhase(claim, "Lost")
        await event(claim, "Warning", reason, message)
    }

    // MARK: - Volumes

    private func syncVolume(_ name: String) async throws(APIError) {
        guard let volume = volumes.get(namespace: nil, name: name) else { return }
        guard let ref = volume.claimRef else {
            try await setVolumePhase(volume, "Available")
            return
        }
        var claim = claims.get(namespace: ref.namespace, name: ref.name)
        if let found = claim, !ref.uid.isEmpty, found.uid != ref.uid { claim = nil }  // deleted and made again
        guard let claim else {
            // Reserved for a claim not made yet (a claimRef without uid): stays Available.
            if ref.uid.isEmpty {
                try await setVolumePhase(volume, "Available")
                return
            }
            try await reclaim(volume)
            return
        }
        let claimVolume = claim.string(at: ["spec", "volumeName"]) ?? ""
        if claimVolume.isEmpty {
            // Pre-bound to a claim that is not bound yet: the claim's sync binds them.
            try await setVolumePhase(volume, "Available")
            await claimQueue.add(Informer.key(of: claim))
        } else if claimVolume == name {
            try await setVolumePhase(volume, "Bound")
        } else if volume.annotations[KubeObject.boundByControllerAnnotation] == "yes" {
            // The claim went to another volume: this one is free again (`unbindVolume`).
            var unbound = volume
            unbound.set(nil, at: ["spec", "claimRef"])
            unbound.set(nil, at: ["metadata", "annotations", KubeObject.boundByControllerAnnotation])
            let stored = try await client.update(.persistentVolumes, unbound)
            try await setVolumePhase(stored, "Available")
        }
    }

    /// `reclaimVolume`, after the volume's claim went away.
    private func reclaim(_ volume: KubeObject) async throws(APIError) {
        var volume = volume
        if volume.phase != "Released" && volume.phase != "Failed" {
            volume = try await setVolumePhase(volume, "Released")
        }
        let name = volume.name ?? ""
        switch volume.string(at: ["spec", "persistentVolumeReclaimPolicy"]) ?? "Retain" {
        case "Delete":
            guard volume.phase != "Failed" else { return }
            if let provisioner = volume.annotations[KubeObject.provisionedByAnnotation], deletableProvisioners.contains(provisioner) {
                // The provisioner's delete: the agent of the volume's node removes its directory
                // when the volume object goes (`LocalPathProvisioner`).
                _ = try await client.delete(.persistentVolumes, namespace: nil, name: name)
                return
            }
            let message = "error getting deleter volume plugin for volume \"\(name)\": no deletable volume plugin matched"
            try await setVolumePhase(volume, "Failed", message: message)
            await event(volume, "Warning", "VolumeFailedDelete", message)
        case "Recycle":
            guard volume.phase != "Failed" else { return }
            try await setVolumePhase(volume, "Failed", message: "No recycler plugin found for the volume!")
            await event(volume, "Warning", "VolumeFailedRecycle", "No recycler plugin found for the volume!")
        default:
            break  // Retain: stays Released until an administrator deals with it.
        }
    }

    // MARK: - Binding

    private func bind(_ volume: KubeObject, _ claim: KubeObject) async throws(APIError) {
        var volume = volume
        // `bindVolumeToClaim`.
        if !volume.isVolumeBound(to: claim) || volume.claimRef?.uid.isEmpty == true {
            var updated = volume
            if volume.claimRef == nil {
                updated.set(.string("yes"), at: ["metadata", "annotations", KubeObject.boundByControllerAnnotation])
            }
            var ref: [String: JSONValue] = ["kind": .string("PersistentVolumeClaim"), "namespace": .string(claim.namespace ?? ""),
                                            "name": .string(claim.name ?? ""), "uid": .string(claim.uid ?? ""),
                                            "apiVersion": .string("v1")]
            if let version = claim.resourceVersion { ref["resourceVersion"] = .string(version) }
            updated.set(.object(ref), at: ["spec", "claimRef"])
            volume = try await client.update(.persistentVolumes, updated)
        }
        volume = try await setVolumePhase(volume, "Bound")
        // `bindClaimToVolume`.
        var claim = claim
        let name = volume.name ?? ""
        if claim.string(at: ["spec", "volumeName"]) != name || claim.annotations[KubeObject.bindCompletedAnnotation] == nil {
            var updated = claim
            if (claim.string(at: ["spec", "volumeName"]) ?? "").isEmpty {
                updated.set(.string("yes"), at: ["metadata", "annotations", KubeObject.boundByControllerAnnotation])
            }
            updated.set(.string(name), at: ["spec", "volumeName"])
            updated.set(.string("yes"), at: ["metadata", "annotations", KubeObject.bindCompletedAnnotation])
            claim = try await client.update(.persistentVolumeClaims, updated)
        }
        // `updateClaimStatus(Bound)`: the claim shows what it got.
        var status = claim.value(at: ["status"])?.objectValue ?? [:]
        status["phase"] = .string("Bound")
        status["accessModes"] = volume.value(at: ["spec", "accessModes"]) ?? .array([])
        status["capacity"] = volume.value(at: ["spec", "capacity"]) ?? .object([:])
        try await client.writeStatus(.object(status), of: claim, in: .persistentVolumeClaims)
    }

    @discardableResult
    private func setClaimPhase(_ claim: KubeObject, _ phase: String) async throws(APIError) -> KubeObject {
        guard claim.phase != phase else { return claim }
        var status = claim.value(at: ["status"])?.objectValue ?? [:]
        status["phase"] = .string(phase)
        return try await client.writeStatus(.object(status), of: claim, in: .persistentVolumeClaims)
    }

    @discardableResult
    private func setVolumePhase(_ volume: KubeObject, _ phase: String, message: String? = nil) async throws(APIError) -> KubeObject {
        guard volume.phase != phase || volume.string(at: ["status", "message"]) != message else { return volume }
        var status = volume.value(at: ["status"])?.objectValue ?? [:]
        status["phase"] = .string(phase)
        status["message"] = message.map(JSONValue.string)
        return try await client.writeStatus(.object(status), of: volume, in: .persistentVolumes)
    }

    private func event(_ object: KubeObject, _ type: String, _ reason: String, _ message: String) async {
        await client.recordEvent(about: object, type: type, reason: reason, message: message, component: Self.component)
    }
}
