import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection` runs it
/// for kube-controller-manager and kube-scheduler: so that of several servers sharing one
/// datastore, one runs the controllers at a time, and another takes over within the lease
/// duration when it dies.
///
/// Every `retryPeriod` a candidate reads the Lease. It takes it when nobody holds it, or when
/// the record has not changed for `leaseDuration` as measured by this process' own clock since it
/// last saw the record change (client-go's `observedTime`: no comparison with the holder's clock).
/// The write carries the resourceVersion read, so of two candidates one wins and the other gets
/// a Conflict. The leader renews every `retryPeriod`; when it has not renewed for `renewDeadline`
/// it stops leading (kube-controller-manager exits then; here the term ends and the process
/// becomes a candidate again). A leader that is stopped releases the lease (client-go's
/// `ReleaseOnCancel`), so a server restarted at once does not wait out its own old lease.
/// Upstream: k8s.io/client-go/tools/leaderelection/leaderelection.go `tryAcquireOrRenew`.
package struct LeaderElector: Sendable {
    /// client-go's defaults (component-base `RecommendedDefaultLeaderElectionConfiguration`).
    package struct Settings: Sendable {
        package var namespace = "kube-system"
        package var name = "kube-controller-manager"
        /// Who this process is; kube-controller-manager uses `<hostname>_<uuid>`.
        package var identity: String
        package var leaseDuration: Duration = .seconds(15)
        package var renewDeadline: Duration = .seconds(10)
        package var retryPeriod: Duration = .seconds(2)
        /// Hand the lease back when stopped while leading (client-go's `ReleaseOnCancel`).
        package var releaseOnCancel = true

        package init(identity: String) {
            self.identity = identity
        }
    }

    let client: any ResourceClient
    let settings: Settings
    let clock: ControllerClock
    let logger: Logger

    package init(client: any ResourceClient, settings: Settings, clock: ControllerClock = .system,
                 logger: Logger = Logger(label: "swiftlet.leader-election")) {
        self.client = client
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// The last Lease record seen, and when (by this process' clock) it was first seen so.
    struct Observation {
        var spec: LeaseSpecRecord
        var time: Date
    }

    /// The fields of the lease that tell a live holder from a dead one.
    struct LeaseSpecRecord: Equatable {
        var holder: String
        var renewTime: String
        var acquireTime: String
        var transitions: Int64
    }

    /// Runs `lead` for each term this process holds the lease, until cancelled. `lead` is
    /// cancelled when a renewal deadline passes.
    package func run(whileLeading lead: @escaping @Sendable () async -> Void) async {
        var observed: Observation?
        while !Task.isCancelled {
            // Candidate: try every retryPeriod (with client-go's jitter factor 1.2).
            while !Task.isCancelled {
                if await tryAcquireOrRenew(&observed) { break }
                try? await Task.sleep(for: settings.retryPeriod * Double.random(in: 1...2.2))
            }
            guard !Task.isCancelled else { return }
            logger.info("became leader", metadata: ["lease": "\(settings.namespace)/\(settings.name)", "identity": "\(settings.identity)"])
            let lastObserved = observed
            let lost = await withTaskGroup(of: Observation?.self) { group -> Observation? in
                group.addTask {
                    await lead()
                    // lead() ends only when cancelled; keep the term until then.
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                    return nil
                }
                group.addTask { await self.renewUntilLost(from: lastObserved) }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            observed = lost
            if Task.isCancelled {
                guard settings.releaseOnCancel else { return }
                // Stopped while leading: hand the lease back, outside the cancelled task so the
                // write is not cut short.
                let elector = self
                await Task { await elector.release() }.value
                return
            } else {
                logger.warning("leadership lost: the lease was not renewed within the deadline", metadata: [
                    "lease": "\(settings.namespace)/\(settings.name)", "renewDeadline": "\(settings.renewDeadline)",
                ])
            }
        }
    }

    /// Renews every retryPeriod; returns the last observation when renewing failed for
    /// `renewDeadline` (or the lease went to another holder).
    private func renewUntilLost(from start: Observation?) async -> Observation? {
        var observed = start
        var lastRenew = clock.now()
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.retryPeriod)
            if Task.isCancelled { break }
            if await tryAcquireOrRenew(&observed) {
                lastRenew = clock.now()
            } else if observed?.spec.holder != settings.identity
                        || clock.now().timeIntervalSince(lastRenew) >= settings.renewDeadline.seconds {
                return observed
            }
        }
        return observed
    }

    /// Empties the lease if this process holds it (client-go's `release`: no holder, a lease of
    /// one second, the transitions kept).
    func release() async {
        guard var lease = try? await client.get(.leases, namespace: settings.namespace, name: settings.name),
              Self.record(lease).holder == settings.identity else { return }
        let nowText = MicroTime(clock.now()).description
        var spec = Self.record(lease)
        spec.holder = ""
        spec.renewTime = nowText
        spec.acquireTime = nowText
        lease.set(.object(Self.fields(spec, durationSeconds: 1)), at: ["spec"])
        if (try? await client.update(.leases, lease)) != nil {
            logger.info("released the leader lease", metadata: ["lease": "\(settings.namespace)/\(settings.name)"])
        }
    }

    /// One attempt: true when this process holds the lease afterwards.
    func tryAcquireOrRenew(_ observed: inout Observation?) async -> Bool {
        let now = clock.now()
        let existing: KubeObject?
        do {
            existing = try await client.get(.leases, namespace: settings.namespace, name: settings.name)
        } catch {
            logger.debug("reading the leader lease failed", metadata: ["error": "\(error)"])
            return false
        }
        let nowText = MicroTime(now).description
        let durationSeconds = Int64(settings.leaseDuration.seconds.rounded(.up))
        guard var lease = existing else {
            let spec = LeaseSpecRecord(holder: settings.identity, renewTime: nowText, acquireTime: nowText, transitions: 0)
            let created = KubeObject(fields: [
                "apiVersion": .string("coordination.k8s.io/v1"), "kind": .string("Lease"),
                "metadata": .object(["name": .string(settings.name), "namespace": .string(settings.namespace)]),
                "spec": .object(Self.fields(spec, durationSeconds: durationSeconds)),
            ])
            do {
                _ = try await client.create(.leases, namespace: settings.namespace, created)
                observed = Observation(spec: spec, time: now)
                return true
            } catch {
                return false
            }
        }
        let current = Self.record(lease)
        if observed?.spec != current {
            observed = Observation(spec: current, time: now)
        }
        let heldByOther = !current.holder.isEmpty && current.holder != settings.identity
        if heldByOther, let observed,
           now.timeIntervalSince(observed.time) < Double(Self.durationSeconds(lease) ?? durationSeconds) {
            return false
        }
        let mine = current.holder == settings.identity
        let next = LeaseSpecRecord(holder: settings.identity, renewTime: nowText,
                                   acquireTime: mine ? current.acquireTime : nowText,
                                   transitions: mine ? current.transitions : current.transitions + 1)
        lease.set(.object(Self.fields(next, durationSeconds: durationSeconds)), at: ["spec"])
        do {
            _ = try await client.update(.leases, lease)
            observed = Observation(spec: next, time: now)
            return true
        } catch {
            // A Conflict: another candidate wrote first; the next read shows who.
            return false
        }
    }

    static func record(_ lease: KubeObject) -> LeaseSpecRecord {
        LeaseSpecRecord(holder: lease.string(at: ["spec", "holderIdentity"]) ?? "",
                        renewTime: lease.string(at: ["spec", "renewTime"]) ?? "",
                        acquireTime: lease.string(at: ["spec", "acquireTime"]) ?? "",
                        transitions: lease.int(at: ["spec", "leaseTransitions"]))
    }

    static func durationSeconds(_ lease: KubeObject) -> Int64? {
        if case .int(let seconds) = lease.value(at: ["spec", "leaseDurationSeconds"]) { return seconds }
        return nil
    }

    static func fields(_ spec: LeaseSpecRecord, durationSeconds: Int64) -> [String: JSONValue] {
        [
            "holderIdentity": .string(spec.holder), "leaseDurationSeconds": .int(durationSeconds),
            "acquireTime": .string(spec.acquireTime), "renewTime": .string(spec.renewTime),
            "leaseTransitions": .int(spec.transitions),
        ]
    }
}
