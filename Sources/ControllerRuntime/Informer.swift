import APIMachinery
import Foundation
import Logging
import Synchronization

/// A change an informer saw.
package enum InformerEvent: Sendable {
    case added(KubeObject)
    case updated(old: KubeObject, new: KubeObject)
    case deleted(KubeObject)

    /// The object as it is now (or was, when deleted).
    package var object: KubeObject {
        switch self {
        case .added(let object), .deleted(let object): return object
        case .updated(_, let new): return new
        }
    }
}

/// client-go's shared informer, in small: lists a resource, then watches from the list's
/// revision, keeping a cache of every object and telling its handlers of each change. When the
/// watch ends (the store fell behind, or the revision expired) it lists again and reports the
/// difference, so handlers see every object's latest state even across gaps.
///
/// Handlers run on the informer's task and must be quick: they enqueue keys.
package final class Informer: Sendable {
    package let ref: ResourceRef
    private let client: any ResourceClient
    private let logger: Logger

    private struct State {
        var cache: [String: KubeObject] = [:]
        var handlers: [@Sendable (InformerEvent) -> Void] = []
        var synced = false
        /// `run` returned (cancelled): nobody will sync, so nobody may wait for it.
        var stopped = false
        var syncWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    init(ref: ResourceRef, client: any ResourceClient, logger: Logger) {
        self.ref = ref
        self.client = client
        self.logger = logger
    }

    /// Adds a handler; call before `run`.
    package func addHandler(_ handler: @escaping @Sendable (InformerEvent) -> Void) {
        state.withLock { $0.handlers.append(handler) }
    }

    /// The cache key of an object: `namespace/name`, or `name` for cluster-scoped ones.
    package static func key(namespace: String?, name: String) -> String {
        if let namespace, !namespace.isEmpty { return "\(namespace)/\(name)" }
        return name
    }

    package static func key(of object: KubeObject) -> String {
        key(namespace: object.namespace, name: object.name ?? "")
    }

    /// Every cached object, optionally of one namespace.
    package func list(namespace: String? = nil) -> [KubeObject] {
        state.withLock { state in
            guard let namespace else { return Array(state.cache.values) }
            return state.cache.values.filter { $0.namespace == namespace }
        }
    }

    package func get(namespace: String?, name: String) -> KubeObject? {
        state.withLock { $0.cache[Self.key(namespace: namespace, name: name)] }
    }

    package func get(key: String) -> KubeObject? {
        state.withLock { $0.cache[key] }
    }

    /// The cached `kind` that `object`'s controller reference names, when its uid is the one
    /// the reference holds (a namesake made after the owner was deleted does not own the
    /// object): client-go's `resolveControllerRef`, shared by the workload controllers.
    package func controller(of object: KubeObject, kind: String) -> KubeObject? {
        guard let ref = object.controllerRef, ref.kind == kind,
              let owner = get(namespace: object.namespace, name: ref.name), owner.uid == ref.uid else { return nil }
        return owner
    }

    /// Returns once the first list is in the cache, or once `run` has stopped without one
    /// (cancelled early): waiting for a sync that cannot come would hang the caller.
    package func waitForSync() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.synced || state.stopped { return true }
                state.syncWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Lists and watches until the task is cancelled.
    package func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let revision = try await relist()
                failures = 0
                let watch = try await client.watch(ref, resourceVersion: String(revision))
                await withTaskCancellationHandler {
                    for await event in watch {
                        guard let object = event.object else { break } // ERROR (410): list again
                        apply(type: event.type, object: object)
                    }
                } onCancel: {
                    watch.cancel()
                }
            } catch {
                failures += 1
                logger.warning("informer list/watch failed", metadata: ["resource": "\(ref)", "error": "\(error)"])
                // client-go backs off up to 30 s; the store is local, so a short pause is enough.
                try? await Task.sleep(for: .milliseconds(min(100 * (1 << min(failures, 6)), 5000)))
            }
        }
        let waiters = state.withLock { state in
            state.stopped = true
            defer { state.syncWaiters = [] }
            return state.syncWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Lists the resource, replaces the cache and reports what changed; returns the list's revision.
    private func relist() async throws(APIError) -> Int64 {
        let list = try await client.list(ref)
        var fresh: [String: KubeObject] = [:]
        for object in list.items { fresh[Self.key(of: object)] = object }
        let (events, handlers, waiters) = state.withLock { state in
            var events: [InformerEvent] = []
            for (key, object) in fresh {
                if let old = state.cache[key] {
                    if old.resourceVersion != object.resourceVersion { events.append(.updated(old: old, new: object)) }
                } else {
                    events.append(.added(object))
                }
            }
            for (key, old) in state.cache where fresh[key] == nil { events.append(.deleted(old)) }
            state.cache = fresh
            state.synced = true
            let waiters = state.syncWaiters
            state.syncWaiters = []
            return (events, state.handlers, waiters)
        }
        for event in events { handlers.forEach { $0(event) } }
        waiters.forEach { $0.resume() }
        return list.revision
    }

    private func apply(type: String, object: KubeObject) {
        let key = Self.key(of: object)
        let (event, handlers) = state.withLock { state -> (InformerEvent?, [@Sendable (InformerEvent) -> Void]) in
            let old = state.cache[key]
            switch type {
            case "ADDED", "MODIFIED":
                state.cache[key] = object
                return (old.map { .updated(old: $0, new: object) } ?? .added(object), state.handlers)
            case "DELETED":
                state.cache[key] = nil
                return (.deleted(object), state.handlers)
            default:
                return (nil, state.handlers)
            }
        }
        if let event { handlers.forEach { $0(event) } }
    }
}
