import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's garbage collector, over the shared informers of every resource
/// that can own or be owned:
/// - a dependent none of whose owners (matched by uid) exists any more is deleted, with the
///   policy its own finalizers ask for (Background by default);
/// - an owner deleted with `propagationPolicy=Foreground` carries the `foregroundDeletion`
///   finalizer: its dependents are deleted, and the finalizer goes once no dependent with
///   `blockOwnerDeletion` is left;
/// - an owner deleted with `Orphan` carries the `orphan` finalizer: its reference is removed
///   from every dependent, then the finalizer goes.
/// Upstream keeps a dependency graph; this one scans the informer caches, which is plenty
/// for the object counts of a small cluster.
/// See https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/garbagecollector/garbagecollector.go
package struct GarbageCollector: Controller {
    static let orphanFinalizer = Finalizers.orphanDependents
    static let foregroundFinalizer = Finalizers.deleteDependents

    package let name = "garbage-collector"
    private let client: any ResourceClient
    /// Informers by resource, for every resource the GC watches.
    private let informers: [ResourceRef: Informer]
    /// The watched resources by (API group, kind), to resolve owner references.
    private let kinds: [String: (ref: ResourceRef, namespaced: Bool)]
    private let queue = WorkQueue()
    private let logger: Logger

    package init(client: any ResourceClient, informers: Informers, logger: Logger) {
        self.client = client
        self.logger = logger
        var watched: [ResourceRef: Informer] = [:]
        var kinds: [String: (ref: ResourceRef, namespaced: Bool)] = [:]
        // Events are never owners nor owned; everything else may be.
        for resource in client.resources where !(resource.group.isEmpty && resource.name == "events") {
            let ref = ResourceRef(group: resource.group, name: resource.name)
            watched[ref] = informers.informer(ref)
            kinds[Self.kindKey(group: resource.group, kind: resource.kind)] = (ref, resource.namespaced)
        }
        self.informers = watched
        self.kinds = kinds
        let queue = self.queue
        for (ref, informer) in watched {
            informer.addHandler { [watched] event in
                let object = event.object
                switch event {
                case .added:
                    if Self.needsAttention(object) { Self.enqueue(ref, object, queue) }
                case .updated(let old, _):
                    // Status updates are frequent and change nothing here: only owner
                    // references and deletions matter.
                    let deleting = object.deletionTimestamp != nil && Self.needsAttention(object)
                    if deleting || Self.ownerReferences(of: old) != Self.ownerReferences(of: object) {
                        Self.enqueue(ref, object, queue)
                    }
                case .deleted:
                    // Its dependents may now be dangling; its owners may be waiting for it.
                    guard let uid = object.uid else { return }
                    for (dependentRef, dependentInformer) in watched {
                        for dependent in dependentInformer.list() where Self.ownerUIDs(of: dependent).contains(uid) {
                            Self.enqueue(dependentRef, dependent, queue)
                        }
                    }
                    let owners = Set(Self.ownerUIDs(of: object))
                    guard !owners.isEmpty else { return }
                    for (ownerRef, ownerInformer) in watched {
                        for owner in ownerInformer.list() where owner.uid.map(owners.contains) == true {
                            Self.enqueue(ownerRef, owner, queue)
                        }
                    }
                }
            }
        }
    }

    package func run() async {
        await runWorkers(name: name, queue: queue, workers: 2, logger: logger) { key in try await sync(key: key) }
    }

    // MARK: - Keys

    private static func kindKey(group: String, kind: String) -> String { "\(group)/\(kind)" }

    /// `group/resource|namespace/name`.
    private static func enqueue(_ ref: ResourceRef, _ object: KubeObject, _ queue: WorkQueue) {
        let key = "\(ref.group)/\(ref.name)|\(Informer.key(of: object))"
        Task { await queue.add(key) }
    }

    private func parse(_ key: String) -> (ResourceRef, String?, String)? {
        let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        let refParts = parts[0].split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard refParts.count == 2 else { return nil }
        let objectParts = parts[1].split(separator: "/", maxSplits: 1).map(String.init)
        let ref = ResourceRef(group: refParts[0], name: refParts[1])
        return objectParts.count == 2 ? (ref, objectParts[0], objectParts[1]) : (ref, nil, objectParts[0])
    }

    private static func needsAttention(_ object: KubeObject) -> Bool {
        if object.deletionTimestamp != nil, object.finalizers.contains(where: { $0 == orphanFinalizer || $0 == foregroundFinalizer }) {
            return true
        }
        return !ownerUIDs(of: object).isEmpty
    }

    private static func ownerReferences(of object: KubeObject) -> [JSONValue] {
        object.value(at: ["metadata", "ownerReferences"])?.arrayValue ?? []
    }

    private static func ownerUIDs(of object: KubeObject) -> [String] {
        ownerReferences(of: object).compactMap { $0["uid"]?.stringValue }
    }

    /// Every cached object that names `uid` among its owners, with its resource.
    private func dependents(of uid: String) -> [(ResourceRef, KubeObject)] {
        informers.flatMap { ref, informer in
            informer.list().filter { Self.ownerUIDs(of: $0).contains(uid) }.map { (ref, $0) }
        }
    }

    // MARK: - Sync

    private func sync(key: String) async throws(APIError) {
        guard let (ref, namespace, name) = parse(key),
              let object = try await client.get(ref, namespace: namespace, name: name) else { return }
        if object.deletionTimestamp != nil {
            if object.finalizers.contains(Self.orphanFinalizer) {
                try await orphanDependents(of: object, ref: ref)
            } else if object.finalizers.contains(Self.foregroundFinalizer) {
                try await deleteDependents(of: object, ref: ref)
            }
            return
        }
        try await collectIfOrphaned(object, ref: ref)
    }

    /// `attemptToDeleteItem`: classifies the owners as solid (exist), dangling (gone or a
    /// different uid) or waiting (being deleted in the foreground). With a solid owner the
    /// object stays (minus references to dangling ones); otherwise it is deleted.
    private func collectIfOrphaned(_ object: KubeObject, ref: ResourceRef) async throws(APIError) {
        let references = Self.ownerReferences(of: object)
        guard !references.isEmpty else { return }
        var solid = 0
        var dangling: Set<String> = []
        var waiting = 0
        for reference in references {
            guard let uid = reference["uid"]?.stringValue, let ownerName = reference["name"]?.stringValue,
                  let kind = reference["kind"]?.stringValue else { continue }
            let apiVersion = reference["apiVersion"]?.stringValue ?? ""
            let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
            guard let (ownerRef, namespaced) = kinds[Self.kindKey(group: group, kind: kind)] else {
                // A kind this server does not serve: never treat it as gone.
                solid += 1
                continue
            }
            // A live read, not the cache: an owner created a moment ago must not look absent.
            let owner = try await client.get(ownerRef, namespace: namespaced ? object.namespace : nil, name: ownerName)
            guard let owner, owner.uid == uid else {
                dangling.insert(uid)
                continue
            }
            if owner.deletionTimestamp != nil, owner.finalizers.contains(Self.foregroundFinalizer) {
                waiting += 1
            } else {
                solid += 1
            }
        }
        if solid > 0 {
            guard !dangling.isEmpty else { return }
            var updated = object
            updated.set(.array(references.filter { !dangling.contains($0["uid"]?.stringValue ?? "") }), at: ["metadata", "ownerReferences"])
            _ = try await client.update(ref, updated)
            return
        }
        let policy: String
        if waiting > 0, let uid = object.uid, !dependents(of: uid).isEmpty {
            policy = "Foreground"
        } else if object.finalizers.contains(Self.orphanFinalizer) {
            policy = "Orphan"
        } else if object.finalizers.contains(Self.foregroundFinalizer) {
            policy = "Foreground"
        } else {
            policy = "Background"
        }
        logger.debug("collecting", metadata: ["object": "\(ref) \(object.namespace ?? "")/\(object.name ?? "")", "policy": "\(policy)"])
        try await client.delete(ref, namespace: object.namespace, name: object.name ?? "", propagationPolicy: policy,
                                preconditionUID: object.uid)
    }

    /// `orphanDependents`: every dependent loses its reference to `owner`, then the finalizer goes.
    private func orphanDependents(of owner: KubeObject, ref: ResourceRef) async throws(APIError) {
        guard let uid = owner.uid else { return }
        for (dependentRef, cached) in dependents(of: uid) {
            // Conflicts (a stale cache) retry the whole key.
            guard var dependent = try await client.get(dependentRef, namespace: cached.namespace, name: cached.name ?? "") else { continue }
            let references = Self.ownerReferences(of: dependent)
            let kept = references.filter { $0["uid"]?.stringValue != uid }
            guard kept.count != references.count else { continue }
            dependent.set(kept.isEmpty ? nil : .array(kept), at: ["metadata", "ownerReferences"])
            _ = try await client.update(dependentRef, dependent)
        }
        try await removeFinalizer(Self.orphanFinalizer, from: owner, ref: ref)
    }

    /// `processDeletingDependentsItem`: deletes the dependents not yet being deleted; once no
    /// dependent blocks the owner (`blockOwnerDeletion`), its finalizer goes.
    private func deleteDependents(of owner: KubeObject, ref: ResourceRef) async throws(APIError) {
        guard let uid = owner.uid else { return }
        let found = dependents(of: uid)
        var blocking = 0
        for (dependentRef, dependent) in found {
            let reference = Self.ownerReferences(of: dependent).first { $0["uid"]?.stringValue == uid }
            if reference?["blockOwnerDeletion"]?.boolValue == true { blocking += 1 }
            guard dependent.deletionTimestamp == nil, let dependentUID = dependent.uid else { continue }
            // A dependent with dependents of its own goes in the foreground too, so the chain
            // (Deployment → ReplicaSet → Pods) is deleted from the leaves up.
            let policy = dependents(of: dependentUID).isEmpty ? "Background" : "Foreground"
            try await client.delete(dependentRef, namespace: dependent.namespace, name: dependent.name ?? "",
                                    propagationPolicy: policy, preconditionUID: dependentUID)
        }
        if blocking == 0 {
            try await removeFinalizer(Self.foregroundFinalizer, from: owner, ref: ref)
        }
        // Otherwise the deletion of each blocking dependent brings the owner back here.
    }

    private func removeFinalizer(_ finalizer: String, from object: KubeObject, ref: ResourceRef) async throws(APIError) {
        guard var current = try await client.get(ref, namespace: object.namespace, name: object.name ?? ""),
              current.uid == object.uid, current.finalizers.contains(finalizer) else { return }
        current.finalizers = current.finalizers.filter { $0 != finalizer }
        _ = try await client.update(ref, current)
    }
}
