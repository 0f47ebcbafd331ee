import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Logging
import Testing

/// The `kubernetes` endpoints of servers sharing one datastore: every server keeps a lease on
/// its address and lists the servers whose lease is alive (kube-apiserver's lease endpoint
/// reconciler); expiry is judged by the observer's clock, frozen here where it matters.
@Suite struct APIServerLeasesTests {
    private func controller(_ api: TestAPI, address: String, clock: TestClock = TestClock()) -> KubernetesServiceController {
        var settings = ControllerSettings.forTests
        settings.apiServerAddresses = [address]
        settings.apiServerPort = 6443
        settings.apiServerLeaseIdentity = "server-\(address)"
        settings.apiServerEndpointsInterval = .milliseconds(100)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return KubernetesServiceController(client: api.client, informers: Informers(client: api.client, logger: logger),
                                           settings: settings, clock: clock.controllerClock, logger: logger)
    }

    private func endpointAddresses(_ api: TestAPI) async throws -> [String] {
        let endpoints = try await api.client.get(.endpoints, namespace: "default", name: "kubernetes")
        return endpoints?.value(at: ["subsets"])?.arrayValue?.first?["addresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue } ?? []
    }

    private func sliceAddresses(_ api: TestAPI) async throws -> [String] {
        let slice = try await api.client.get(.endpointSlices, namespace: "default", name: "kubernetes")
        return slice?.fields["endpoints"]?.arrayValue?.compactMap { $0["addresses"]?.arrayValue?.first?.stringValue } ?? []
    }

    private func lease(_ api: TestAPI, _ name: String) async throws -> KubeObject? {
        try await api.client.get(.leases, namespace: "kube-system", name: name)
    }

    /// A lease as another server would write it.
    private func writeLease(_ api: TestAPI, _ name: String, renewTime: Date, labelled: Bool = true) async throws {
        let now = MicroTime(renewTime).description
        var object = KubeObject(fields: [
            "apiVersion": .string("coordination.k8s.io/v1"), "kind": .string("Lease"),
            "metadata": .object(["name": .string(name), "namespace": .string("kube-system")]),
            "spec": .object(["holderIdentity": .string("other"), "leaseDurationSeconds": .int(15),
                             "acquireTime": .string(now), "renewTime": .string(now)]),
        ])
        if labelled { object.labels = [APIServerLeases.label: "true"] }
        if var current = try await lease(api, name) {
            current.set(.string(now), at: ["spec", "renewTime"])
            _ = try await api.client.update(.leases, current)
        } else {
            _ = try await api.client.create(.leases, namespace: "kube-system", object)
        }
    }

    @Test func everyServerWithALiveLeaseIsListedAndAStoppedOneLeavesAtOnce() async throws {
        try await withTestAPI { api in
            let a = Task { await controller(api, address: "10.0.0.1").run() }
            let b = Task { await controller(api, address: "10.0.0.2").run() }
            try await withCleanup {
                let both = try await eventually({ try await endpointAddresses(api) }, until: { $0 == ["10.0.0.1", "10.0.0.2"] })
                #expect(both == ["10.0.0.1", "10.0.0.2"])
                #expect(try await eventually({ try await sliceAddresses(api) }, until: { $0.count == 2 }) == ["10.0.0.1", "10.0.0.2"])
                let own = try await lease(api, "apiserver-10.0.0.2")
                #expect(own?.labels == [APIServerLeases.label: "true"])
                #expect(own?.string(at: ["spec", "holderIdentity"]) == "server-10.0.0.2")
                #expect(own?.int(at: ["spec", "leaseDurationSeconds"]) == 15)

                // b stops (SIGTERM): its lease goes and the endpoints drop it without waiting
                // for the lease to expire.
                b.cancel()
                await b.value
                #expect(try await lease(api, "apiserver-10.0.0.2") == nil)
                // (a round of a's that read the leases just before may write both once more)
                #expect(try await eventually({ try await endpointAddresses(api) }, until: { $0.count == 1 }) == ["10.0.0.1"])
                #expect(try await eventually({ try await sliceAddresses(api) }, until: { $0.count == 1 }) == ["10.0.0.1"])
            } cleanup: {
                a.cancel()
                b.cancel()
                await a.value
                await b.value
            }
        }
    }

    @Test func aLeaseNotRenewedForItsDurationByTheObserversClockIsDroppedAndDeleted() async throws {
        try await withTestAPI { api in
            let clock = TestClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000))
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let leases = APIServerLeases(client: api.client, address: "10.0.0.1", identity: "a", clock: clock.controllerClock, logger: logger)
            try await leases.renew()
            #expect(try await lease(api, "apiserver-10.0.0.1")?.string(at: ["spec", "holderIdentity"]) == "a")
            // Written with a renewTime far in the past: only changes count, not the holder's clock.
            try await writeLease(api, "apiserver-10.0.0.9", renewTime: Date(timeIntervalSince1970: 1_000))
            // Not ours to read: a name that is no address, and a lease without the label.
            try await writeLease(api, "apiserver-not-an-address", renewTime: Date(timeIntervalSince1970: 1_000))
            try await writeLease(api, "apiserver-10.0.0.8", renewTime: Date(timeIntervalSince1970: 1_000), labelled: false)
            #expect(try await leases.liveAddresses() == ["10.0.0.1", "10.0.0.9"])
            clock.advance(by: 10)
            #expect(try await leases.liveAddresses() == ["10.0.0.1", "10.0.0.9"])
            // Renewed: another 15 s from the moment this reader sees the change.
            try await writeLease(api, "apiserver-10.0.0.9", renewTime: Date(timeIntervalSince1970: 2_000))
            #expect(try await leases.liveAddresses() == ["10.0.0.1", "10.0.0.9"])
            clock.advance(by: 14)
            #expect(try await leases.liveAddresses() == ["10.0.0.1", "10.0.0.9"])
            clock.advance(by: 1)
            #expect(try await leases.liveAddresses() == ["10.0.0.1"])
            #expect(try await lease(api, "apiserver-10.0.0.9") == nil)
            #expect(try await lease(api, "apiserver-not-an-address") != nil)
            #expect(try await lease(api, "apiserver-10.0.0.8") != nil)
            // The reader's own lease never counts as expired, and its release removes it.
            await leases.release()
            #expect(try await lease(api, "apiserver-10.0.0.1") == nil)
        }
    }
}
