import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// Which API servers are alive, for the `kubernetes` Service's endpoints when several servers
/// share one datastore: kube-apiserver's lease endpoint reconciler
/// (pkg/controlplane/reconcilers/lease.go), where each server keeps a lease on its address
/// (`/masterleases/<ip>` with an etcd TTL of 15 s, renewed every 10 s) and the endpoints list
/// the addresses whose lease has not expired.
///
/// Here the lease is a `coordination.k8s.io/v1` Lease `kube-system/apiserver-<address>`
/// (labelled `swiftlet.io/apiserver-endpoint`), since the Storage has no TTLs. A lease counts as
/// expired when its record has not changed for its duration as measured by this process' own
/// clock since it last saw it change (client-go leaderelection's `observedTime`), so servers'
/// clocks are never compared. An expired lease is deleted (with its resourceVersion as the
/// precondition, so a renewal that raced us wins), as the TTL would have removed it; a server
/// that comes back creates it again.
package actor APIServerLeases {
    package static let namespace = "kube-system"
    package static let namePrefix = "apiserver-"
    package static let label = "swiftlet.io/apiserver-endpoint"

    let client: any ResourceClient
    /// This server's advertised address.
    package let address: String
    let identity: String
    let duration: Duration
    let clock: ControllerClock
    let logger: Logger
    /// Lease name → the record last seen and when this process first saw it so.
    private var observed: [String: (record: String, since: Date)] = [:]

    package init(client: any ResourceClient, address: String, identity: String, duration: Duration = .seconds(15),
                 clock: ControllerClock = .system, logger: Logger) {
        self.client = client
        self.address = address
        self.identity = identity
        self.duration = duration
        self.clock = clock
        self.logger = logger
    }

    var name: String { Self.namePrefix + address }

    /// Creates or renews this server's lease.
    func renew() async throws(APIError) {
        let now = MicroTime(clock.now()).description
        let seconds = Int64(duration.seconds.rounded(.up))
        guard var lease = try await client.get(.leases, namespace: Self.namespace, name: name) else {
            let lease = KubeObject(fields: [
                "apiVersion": .string("coordination.k8s.io/v1"), "kind": .string("Lease"),
                "metadata": .object([
                    "name": .string(name), "namespace": .string(Self.namespace),
                    "labels": .object([Self.label: .string("true")]),
                ]),
                "spec": .object([
                    "holderIdentity": .string(identity), "leaseDurationSeconds": .int(seconds),
                    "acquireTime": .string(now), "renewTime": .string(now),
                ]),
            ])
            do {
                _ = try await client.create(.leases, namespace: Self.namespace, lease)
            } catch where error.code == 409 {
                // Created by a previous run of this server in between: renewed next round.
            }
            return
        }
        lease.set(.string(identity), at: ["spec", "holderIdentity"])
        lease.set(.int(seconds), at: ["spec", "leaseDurationSeconds"])
        lease.set(.string(now), at: ["spec", "renewTime"])
        lease.labels[Self.label] = "true"
        _ = try await client.update(.leases, lease)
    }

    /// The addresses of the servers whose lease is alive, this one's included, sorted; expired
    /// leases are deleted on the way.
    func liveAddresses() async throws(APIError) -> [String] {
        var options = ListOptions()
        options.labelSelector = try LabelSelector(parsing: "\(Self.label)=true")
        let leases = try await client.list(.leases, namespace: Self.namespace, options: options).items
        let now = clock.now()
        var live: Set<String> = [address]
        var seen: Set<String> = []
        for lease in leases {
            guard let name = lease.name, name.hasPrefix(Self.namePrefix) else { continue }
            let leaseAddress = String(name.dropFirst(Self.namePrefix.count))
            // Only names this reconciler writes: an IPv4 address after the prefix.
            guard IPv4Text.parseIPv4(leaseAddress) != nil, leaseAddress != address else { continue }
            seen.insert(name)
            let record = "\(lease.string(at: ["spec", "holderIdentity"]) ?? "")|\(lease.string(at: ["spec", "renewTime"]) ?? "")"
            if observed[name]?.record != record { observed[name] = (record, now) }
            let seconds: Double
            if case .int(let value) = lease.value(at: ["spec", "leaseDurationSeconds"]), value > 0 {
                seconds = Double(value)
            } else {
                seconds = duration.seconds
            }
            if now.timeIntervalSince(observed[name]?.since ?? now) < seconds {
                live.insert(leaseAddress)
            } else {
                await expire(lease)
            }
        }
        observed = observed.filter { seen.contains($0.key) }
        return live.sorted()
    }

    /// Deletes a lease seen unchanged for its duration, unless it was renewed meanwhile.
    private func expire(_ lease: KubeObject) async {
        guard let name = lease.name else { return }
        var options = DeleteOptions()
        options.preconditionResourceVersion = lease.resourceVersion
        do {
            _ = try await client.delete(.leases, namespace: Self.namespace, name: name, options: options)
            observed[name] = nil
            logger.info("removed the expired lease of an API server", metadata: ["lease": "\(Self.namespace)/\(name)"])
        } catch {
            // Renewed or removed by another server in between: the next round sees which.
        }
    }

    /// Deletes this server's lease: it is stopping (kube-apiserver's `RemoveEndpoints`).
    func release() async {
        _ = try? await client.delete(.leases, namespace: Self.namespace, name: name, options: DeleteOptions())
    }
}
