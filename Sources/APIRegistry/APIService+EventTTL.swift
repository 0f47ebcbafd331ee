import APIMachinery
import Foundation
import KubeAPI

extension APIService {
    /// kube-apiserver's `--event-ttl` (default one hour): an Event lives that long after its
    /// last write. Upstream attaches an etcd lease to every create and update of an Event; the
    /// SQLite store has no leases, so the server sweeps instead (`ControlPlane.runEventExpiry`)
    /// and deletes the Events whose newest timestamp is older than `ttl`. The newest of the
    /// timestamps the recorders write stands for the last write: `lastTimestamp` (core/v1,
    /// advanced on every repeat), `eventTime` and `series.lastObservedTime` (events.k8s.io/v1),
    /// and `creationTimestamp` for an Event that carries none of them.
    ///
    /// A delete is conditional on the resourceVersion listed, so an Event repeated (updated)
    /// between the list and the delete is kept. Returns how many Events were deleted.
    @discardableResult
    public func expireEvents(olderThan ttl: Duration, now: Date = Date()) async throws(APIError) -> Int {
        let events = try store(group: "", name: "events")
        let cutoff = now.addingTimeInterval(-Double(ttl.components.seconds))
        var options = ListOptions()
        options.limit = 500
        var expired = 0
        repeat {
            let page = try await events.list(namespace: nil, options: options)
            for event in page.items where Self.lastWrite(ofEvent: event).map({ $0 < cutoff }) ?? false {
                var delete = DeleteOptions()
                delete.preconditionResourceVersion = event.resourceVersion
                do {
                    _ = try await events.delete(namespace: event.namespace, name: event.name ?? "", options: delete, context: context())
                    expired += 1
                } catch {
                    // 404: someone deleted it first; 409: it was repeated since the list.
                    guard error.code == 404 || error.code == 409 else { throw error }
                }
            }
            options.continueToken = page.continueToken
        } while options.continueToken != nil
        return expired
    }

    /// The newest of an Event's timestamps, standing for its last write; nil when it has none
    /// that parses (then it is kept: nothing says it is old).
    static func lastWrite(ofEvent event: KubeObject) -> Date? {
        let texts = [event.string(at: ["lastTimestamp"]), event.string(at: ["eventTime"]),
                     event.string(at: ["series", "lastObservedTime"]), event.creationTimestamp]
        // MicroTime reads both forms: with a fraction (eventTime) and without (the others).
        return texts.compactMap { $0.flatMap(MicroTime.init(rfc3339:))?.date }.max()
    }
}
