import Foundation
import KubeAPI
import Logging

/// The node's heartbeat: the Lease `kube-node-lease/<node>` renewed every quarter of its
/// duration (10 s of 40), created when missing. Follows kubelet's lease controller
/// (k8s.io/component-helpers/apimachinery/lease/controller.go): renew from the last Lease
/// written without a GET, fall back to get-or-create with back-off (200 ms doubling to 7 s),
/// up to 5 immediate retries of an update, a conflict re-reading the Lease first.
public actor NodeLease {
    public nonisolated let nodeName: String
    public nonisolated let durationSeconds: Int32
    let api: any NodeAPI
    let clock: any NodeClock
    let logger: Logger
    /// The Lease as last written or read: the base of the next renewal.
    public private(set) var latest: Lease?
    /// The Node's uid, for the Lease's owner reference (deleting the Node deletes its Lease).
    private var ownerUID: String?

    static let maxUpdateRetries = 5
    static let maxBackoff = Duration.seconds(7)

    public init(nodeName: String, durationSeconds: Int32 = 40, api: any NodeAPI, clock: any NodeClock = SystemNodeClock(),
                logger: Logger = Logger(label: "swiftlet.node-lease")) {
        self.nodeName = nodeName
        self.durationSeconds = durationSeconds
        self.api = api
        self.clock = clock
        self.logger = logger
    }

    /// kubelet renews every quarter of the lease duration.
    public nonisolated var renewInterval: Duration { .milliseconds(Int64(durationSeconds) * 250) }

    /// Sets the Node the Lease belongs to (from the registered Node).
    public func setOwner(uid: String?) {
        ownerUID = uid
    }

    /// Renews until the task is cancelled; errors are logged and retried, never thrown.
    public func run() async {
        while !Task.isCancelled {
            await sync()
            do { try await clock.sleep(for: renewInterval) } catch { return }
        }
    }

    /// One renewal (kubelet's `sync`).
    public func sync() async {
        if let latest {
            do {
                try await retryUpdate(latest)
                return
            } catch {
                logger.info("renewing the node lease from the last copy failed, reading it again", metadata: ["error": "\(error)"])
            }
        }
        guard let ensured = await backoffEnsure() else { return } // cancelled
        latest = ensured.lease
        // A Lease just created carries this renewal already.
        if !ensured.created {
            do {
                try await retryUpdate(ensured.lease)
            } catch {
                logger.error("cannot renew the node lease, will retry", metadata: ["lease": "\(Lease.nodeLeaseNamespace)/\(nodeName)",
                                                                                 "error": "\(error)", "retryIn": "\(renewInterval)"])
            }
        }
    }

    /// Gets the Lease, creating it when missing; retried with back-off until it works. Nil
    /// only when the task is cancelled.
    private func backoffEnsure() async -> (lease: Lease, created: Bool)? {
        var delay = Duration.milliseconds(100)
        while true {
            do {
                return try await ensure()
            } catch {
                delay = min(delay * 2, Self.maxBackoff)
                logger.error("cannot get or create the node lease, will retry",
                             metadata: ["lease": "\(Lease.nodeLeaseNamespace)/\(nodeName)", "error": "\(error)", "retryIn": "\(delay)"])
                do { try await clock.sleep(for: delay) } catch { return nil }
            }
        }
    }

    private func ensure() async throws -> (lease: Lease, created: Bool) {
        if let existing = try await api.getLease(namespace: Lease.nodeLeaseNamespace, name: nodeName) {
            return (existing, false)
        }
        return (try await api.createLease(renewed(nil)), true)
    }

    /// Up to 5 updates; a conflict means someone else wrote the Lease: read it again first.
    private func retryUpdate(_ base: Lease) async throws {
        var base = base
        var lastError: Error?
        for _ in 0..<Self.maxUpdateRetries {
            do {
                latest = try await api.updateLease(renewed(base))
                return
            } catch let error as NodeAPIError {
                lastError = error
                if case .conflict = error {
                    guard let fresh = await backoffEnsure() else { throw CancellationError() }
                    base = fresh.lease
                }
            } catch {
                lastError = error
            }
        }
        throw NodeAPIError.other("failed \(Self.maxUpdateRetries) attempts to update lease \(Lease.nodeLeaseNamespace)/\(nodeName): "
                                 + "\(lastError.map { "\($0)" } ?? "unknown error")")
    }

    /// A new Lease (nil base) or a copy of `base`, renewed now and owned by the Node.
    func renewed(_ base: Lease?) -> Lease {
        var lease = base ?? Lease(
            metadata: ObjectMeta(name: nodeName, namespace: Lease.nodeLeaseNamespace),
            spec: LeaseSpec(holderIdentity: nodeName, leaseDurationSeconds: durationSeconds))
        lease.spec.renewTime = MicroTime(clock.now())
        // kubelet's setNodeOwnerFunc: the Node owns its Lease, so deleting the Node removes it.
        if let ownerUID, lease.metadata.ownerReferences?.isEmpty ?? true {
            lease.metadata.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "Node", name: nodeName, uid: ownerUID)]
        }
        return lease
    }
}
