import KubeAPI
import Testing
@testable import ClusterDNS

/// Incremental updates: a change touches only its own names, and snapshots already taken stay
/// as they were.
@Suite struct RecordStoreTests {
    static func services(_ count: Int) -> [Service] {
        (0..<count).map { Fixtures.service("svc-\($0)", namespace: "ns-\($0 % 10)", clusterIP: "10.43.\($0 / 250).\($0 % 250 + 1)") }
    }

    @Test func oneServiceChangeAmongAThousandKeepsEveryOtherNode() throws {
        let store = try ClusterRecordStore()
        store.replace(services: Self.services(1000), endpointSlices: [])
        let before = store.snapshot
        store.apply(Fixtures.service("svc-7", namespace: "ns-7", clusterIP: "10.43.9.9"))
        let after = store.snapshot
        var same = 0, different = 0
        for node in before.table.allNodes {
            if let now = after.node(node.name), now === node { same += 1 } else { different += 1 }
        }
        // svc-7's name, its SRV name and the two PTR names (old and new address) change.
        #expect(different <= 4)
        #expect(same >= before.nameCount - 4)
        // The old snapshot still answers the old address.
        let h = HandlerHarness(store: store)
        #expect(try h.ask("svc-7.ns-7.svc.cluster.local").answerData == ["10.43.9.9"])
        #expect(before.node(try DNSName("svc-7.ns-7.svc.cluster.local").wire)?.records.a == [[10, 43, 0, 8]])
    }

    @Test func deletingAServiceRemovesItsNamesAndItsEmptyNamespace() throws {
        let store = try ClusterRecordStore()
        store.replace(services: [Fixtures.service("web", namespace: "team")], endpointSlices: [])
        let h = HandlerHarness(store: store)
        #expect(try h.ask("team.svc.cluster.local").rcode == .noError)
        store.deleteService(namespace: "team", name: "web")
        #expect(try h.ask("web.team.svc.cluster.local").rcode == .nameError)
        // The address is no longer ours: its reverse name goes upstream.
        guard case .forward = h.run(QueryBytes.make("20.0.43.10.in-addr.arpa", .ptr)) else {
            Issue.record("a released cluster IP's PTR must be forwarded")
            return
        }
        #expect(try h.ask("team.svc.cluster.local").rcode == .nameError)
        store.addNamespace("team")
        #expect(try h.ask("team.svc.cluster.local").rcode == .noError)
    }

    @Test func slicesBeforeTheirServiceAndSliceMoves() throws {
        let store = try ClusterRecordStore()
        store.markSynced()
        let h = HandlerHarness(store: store)
        store.apply(Fixtures.slice("hl-a", service: "hl", endpoints: [Fixtures.endpoint("10.42.0.1")]))
        #expect(try h.ask("hl.default.svc.cluster.local").rcode == .nameError)
        store.apply(Fixtures.service("hl", clusterIP: "None"))
        #expect(try h.ask("hl.default.svc.cluster.local").answerData == ["10.42.0.1"])
        store.apply(Fixtures.slice("hl-b", service: "hl", endpoints: [Fixtures.endpoint("10.42.0.2")]))
        #expect(Set(try h.ask("hl.default.svc.cluster.local").answerData) == ["10.42.0.1", "10.42.0.2"])
        // A pod turning unready leaves the answer.
        store.apply(Fixtures.slice("hl-a", service: "hl", endpoints: [Fixtures.endpoint("10.42.0.1", ready: false)]))
        #expect(try h.ask("hl.default.svc.cluster.local").answerData == ["10.42.0.2"])
        // Its PTR is gone with it: the reverse name is no longer ours and goes upstream.
        guard case .forward = h.run(QueryBytes.make("1.0.42.10.in-addr.arpa", .ptr)) else {
            Issue.record("an unready pod's PTR must not be answered")
            return
        }
        store.deleteEndpointSlice(namespace: "default", name: "hl-b")
        #expect(try h.ask("hl.default.svc.cluster.local").rcode == .nameError)
    }

    @Test func twoServicesSelectingOnePodGiveTwoPTRs() throws {
        let store = try ClusterRecordStore()
        store.replace(services: [Fixtures.service("a", clusterIP: "None"), Fixtures.service("b", clusterIP: "None")],
                      endpointSlices: [Fixtures.slice("a-1", service: "a", endpoints: [Fixtures.endpoint("10.42.0.9")]),
                                       Fixtures.slice("b-1", service: "b", endpoints: [Fixtures.endpoint("10.42.0.9")])])
        let h = HandlerHarness(store: store)
        #expect(Set(try h.ask("9.0.42.10.in-addr.arpa", .ptr).answerData) == [
            "10-42-0-9.a.default.svc.cluster.local.", "10-42-0-9.b.default.svc.cluster.local."])
        store.deleteService(namespace: "default", name: "a")
        #expect(try h.ask("9.0.42.10.in-addr.arpa", .ptr).answerData == ["10-42-0-9.b.default.svc.cluster.local."])
    }

    @Test func replaceDropsWhatIsGone() throws {
        let store = try ClusterRecordStore()
        store.replace(services: Self.services(20), endpointSlices: [])
        store.replace(services: Array(Self.services(20).prefix(5)), endpointSlices: [])
        let h = HandlerHarness(store: store)
        #expect(try h.ask("svc-4.ns-4.svc.cluster.local").rcode == .noError)
        #expect(try h.ask("svc-5.ns-5.svc.cluster.local").rcode == .nameError)
    }

    @Test func invalidZoneAndNameserverAreErrors() {
        #expect(throws: DNSWireError.self) { try ClusterRecordStore(zone: ".") }
        #expect(throws: DNSWireError.self) { try ClusterRecordStore(zone: String(repeating: "a", count: 64) + ".local") }
        #expect(throws: DNSWireError.self) { try ClusterRecordStore(nameserverAddresses: ["dns.example"]) }
    }

    @Test func badObjectsGiveNoRecordsInsteadOfFailing() throws {
        let store = try ClusterRecordStore()
        store.replace(services: [
            Fixtures.service(String(repeating: "x", count: 70)),
            Fixtures.service("badip", clusterIP: "10.43.0.300"),
            Fixtures.service("badext", clusterIP: nil, type: "ExternalName", externalName: "a..b"),
        ], endpointSlices: [Fixtures.slice("s", service: "badip", endpoints: [Fixtures.endpoint("not-an-ip")])])
        let h = HandlerHarness(store: store)
        #expect(try h.ask("badip.default.svc.cluster.local").rcode == .noError)
        #expect(try h.ask("badip.default.svc.cluster.local").answers.isEmpty)
        #expect(try h.ask("badext.default.svc.cluster.local").rcode == .nameError)
    }
}
