import ControllerRuntime
import Scheduler
import Foundation
import Synchronization

/// `controller.UIDTrackingControllerExpectations`: the creations and deletions a controller
/// has asked for and not yet seen in its informer. While any are outstanding the controller
/// does not act on its (stale) cache, so it never creates or deletes twice; after five minutes
/// an expectation is assumed lost and the controller acts again.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/controller_utils.go
final class ReplicaSetExpectations: Sendable {
    /// `ExpectationsTimeout`.
    static let timeout: TimeInterval = 5 * 60

    private struct Record {
        var creations: Int
        var deletions: Set<String>
        var since: Date
    }
    private let records = Mutex<[String: Record]>([:])

    /// Whether the controller of `key` may act: nothing outstanding, or outstanding too long.
    func satisfied(_ key: String, now: Date = Date()) -> Bool {
        records.withLock { records in
            guard let record = records[key] else { return true }
            if record.creations <= 0 && record.deletions.isEmpty { return true }
            return now.timeIntervalSince(record.since) > Self.timeout
        }
    }

    func expectCreations(_ key: String, count: Int) {
        records.withLock { $0[key] = Record(creations: count, deletions: [], since: Date()) }
    }

    /// `podKeys` are `namespace/name` of the pods being deleted.
    func expectDeletions(_ key: String, podKeys: [String]) {
        records.withLock { $0[key] = Record(creations: 0, deletions: Set(podKeys), since: Date()) }
    }

    /// A creation seen (or one that will never happen: a failed or skipped create).
    func creationObserved(_ key: String, count: Int = 1) {
        records.withLock { records in
            guard var record = records[key] else { return }
            record.creations -= count
            records[key] = record
        }
    }

    /// A deletion seen, by pod key; a pod not expected changes nothing.
    func deletionObserved(_ key: String, podKey: String) {
        records.withLock { records in
            guard var record = records[key] else { return }
            record.deletions.remove(podKey)
            records[key] = record
        }
    }

    func forget(_ key: String) {
        _ = records.withLock { $0.removeValue(forKey: key) }
    }
}
