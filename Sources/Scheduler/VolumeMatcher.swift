import ControllerRuntime
import APIMachinery
import KubeAPI

/// Which PersistentVolume an unbound claim gets: the PV controller's index
/// (pkg/controller/volume/persistentvolume/index.go, `findByClaim`) and
/// `FindMatchingVolume` (component-helpers/storage/volume/pv_helpers.go).
///
/// The candidate volumes are grouped by their access modes; the groups whose modes include
/// every mode the claim asks for are tried from the fewest modes up, and within a group:
/// - a volume already pre-bound to this claim (`spec.claimRef`) wins if it is large enough
///   and of the claim's class, whatever its phase;
/// - otherwise the smallest Available volume, not pre-bound to another claim, of the claim's
///   class and volume mode, whose labels match the claim's selector and whose capacity is at
///   least the request. With `node` (delayed binding: the scheduler asks for one node), the
///   volume's node affinity must admit that node; without it, delayed-binding claims get no
///   match from the controller (the scheduler binds them).
package enum VolumeMatcher {
    package static func bestMatch(for claim: KubeObject, in volumes: [KubeObject], delayBinding: Bool = false,
                          node: KubeObject? = nil) -> KubeObject? {
        let requested = Set(claim.accessModes)
        let groups = Dictionary(grouping: volumes) { Set($0.accessModes) }
            .filter { requested.isSubset(of: $0.key) }
            .sorted { $0.key.count < $1.key.count || ($0.key.count == $1.key.count && $0.key.sorted().lexicographicallyPrecedes($1.key.sorted())) }
        for (_, group) in groups {
            if let volume = match(claim, in: group, delayBinding: delayBinding, node: node) { return volume }
        }
        return nil
    }

    /// `FindMatchingVolume` over one access-mode group.
    package static func match(_ claim: KubeObject, in volumes: [KubeObject], delayBinding: Bool, node: KubeObject?) -> KubeObject? {
        let request = claim.requestedStorage ?? Quantity(value: 0)
        let requestedClass = claim.storageClassName
        let selector = claim.value(at: ["spec", "selector"]).flatMap { try? LabelSelector(object: $0) }
        var smallest: (volume: KubeObject, size: Quantity)?
        for volume in volumes.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
            guard volume.volumeMode == claim.volumeMode, volume.deletionTimestamp == nil else { continue }
            let size = volume.volumeCapacity ?? Quantity(value: 0)
            if volume.isVolumeBound(to: claim) {
                // Pre-bound to this claim (by a user or an earlier pass): taken if it fits.
                guard size >= request, volume.storageClassName == requestedClass else { continue }
                if let node, !nodeAffinityAdmits(volume, node: node) { continue }
                return volume
            }
            guard volume.claimRef == nil, volume.phase == "Available" else { continue }
            if let selector, !selector.matches(volume.labels) { continue }
            guard volume.storageClassName == requestedClass else { continue }
            if let node {
                if !nodeAffinityAdmits(volume, node: node) { continue }
            } else if delayBinding {
                continue
            }
            if size >= request, smallest.map({ size < $0.size }) ?? true {
                smallest = (volume, size)
            }
        }
        return smallest?.volume
    }

    /// Why `volume` cannot serve `claim` (`checkVolumeSatisfyClaim`), nil when it can: used
    /// when a claim names its volume (`spec.volumeName`).
    package static func mismatch(_ volume: KubeObject, for claim: KubeObject) -> String? {
        let request = claim.requestedStorage ?? Quantity(value: 0)
        let size = volume.volumeCapacity ?? Quantity(value: 0)
        if size < request { return "requested PV is too small" }
        if volume.storageClassName != claim.storageClassName { return "storageClassName does not match" }
        if volume.volumeMode != claim.volumeMode { return "incompatible volumeMode" }
        if !Set(claim.accessModes).isSubset(of: Set(volume.accessModes)) { return "incompatible accessMode" }
        return nil
    }

    /// `CheckNodeAffinity`: a volume without `spec.nodeAffinity.required` fits every node;
    /// otherwise one of its node selector terms must match the node's labels (and
    /// `metadata.name` for matchFields).
    package static func nodeAffinityAdmits(_ volume: KubeObject, node: KubeObject) -> Bool {
        guard let terms = volume.value(at: ["spec", "nodeAffinity", "required", "nodeSelectorTerms"])?.arrayValue else { return true }
        return SchedulerPredicates.matchesNodeSelectorTerms(terms, node: node)
    }
}
