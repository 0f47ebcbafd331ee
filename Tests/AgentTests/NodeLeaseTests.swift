import Foundation
import KubeAPI
import Testing
@testable import Agent

/// The heartbeat Lease against an in-memory API server.
@Suite struct NodeLeaseTests {
    let api = FakeNodeAPI()
    let clock = ManualClock()

    func lease() -> NodeLease { NodeLease(nodeName: "node1", api: api, clock: clock) }

    @Test func createdWhenMissingThenRenewedWithoutReading() async throws {
        let lease = lease()
        await lease.setOwner(uid: "uid-node1")
        await lease.sync()
        let created = try #require(await api.leases["kube-node-lease/node1"])
        #expect(created.spec.holderIdentity == "node1")
        #expect(created.spec.leaseDurationSeconds == 40)
        #expect(created.spec.renewTime == MicroTime(clock.now()))
        #expect(created.metadata.ownerReferences == [OwnerReference(apiVersion: "v1", kind: "Node", name: "node1", uid: "uid-node1")])
        #expect(await api.calls == ["getLease", "createLease"])
        #expect(lease.renewInterval == .seconds(10))

        clock.advance(seconds: 10)
        await lease.sync()
        #expect(await api.calls == ["getLease", "createLease", "updateLease"])
        #expect(await api.leases["kube-node-lease/node1"]?.spec.renewTime == MicroTime(clock.now()))
    }

    @Test func anExistingLeaseIsReadThenRenewed() async throws {
        _ = try await api.createLease(Lease(metadata: ObjectMeta(name: "node1", namespace: "kube-node-lease"),
                                            spec: LeaseSpec(holderIdentity: "node1", leaseDurationSeconds: 40)))
        let lease = lease()
        await lease.sync()
        #expect(Array(await api.calls.dropFirst()) == ["getLease", "updateLease"])
        #expect(await api.leases["kube-node-lease/node1"]?.spec.renewTime == MicroTime(clock.now()))
    }

    @Test func aConflictReadsTheLeaseAgain() async throws {
        let lease = lease()
        await lease.sync()
        await api.touch(lease: "kube-node-lease/node1")
        clock.advance(seconds: 10)
        await lease.sync()
        #expect(Array(await api.calls.suffix(3)) == ["updateLease", "getLease", "updateLease"])
        #expect(await api.leases["kube-node-lease/node1"]?.spec.renewTime == MicroTime(clock.now()))
    }

    @Test func failuresBackOffAndNeverThrow() async throws {
        let lease = lease()
        await api.fail("getLease", with: .other("connection refused"), .other("connection refused"), .other("connection refused"))
        await lease.sync()
        #expect(await api.count("getLease") == 4)
        #expect(clock.sleeps == [.milliseconds(200), .milliseconds(400), .milliseconds(800)])
        #expect(await api.leases["kube-node-lease/node1"] != nil)
    }
}
