import KubeAPI
import Testing
@testable import ClusterDNS

/// The Kubernetes DNS specification's records, answered as CoreDNS's kubernetes plugin answers
/// them (its handler_test.go cases), from Services and EndpointSlices.
@Suite struct ClusterZoneTests {
    static func harness() throws -> HandlerHarness {
        let store = try ClusterRecordStore(nameserverAddresses: ["10.43.0.10"])
        store.replace(services: [
            Fixtures.service("web"),
            Fixtures.service("db", clusterIP: "None", ports: [ServicePort(name: "pg", port: 5432)]),
            Fixtures.service("ext", clusterIP: nil, ports: [], type: "ExternalName", externalName: "www.example.org"),
            Fixtures.service("alias", clusterIP: nil, ports: [], type: "ExternalName", externalName: "web.default.svc.cluster.local"),
            Fixtures.service("empty", clusterIP: "None", ports: []),
            Fixtures.service("v6", clusterIP: "fd00::20", clusterIPs: ["10.43.0.21", "fd00::20"]),
            Fixtures.service("late", clusterIP: "None", publishNotReady: true),
        ], endpointSlices: [
            Fixtures.slice("db-1", service: "db", endpoints: [
                Fixtures.endpoint("10.42.0.5", hostname: "db-0"),
                Fixtures.endpoint("10.42.0.6"),
                Fixtures.endpoint("10.42.0.7", ready: false),
                Fixtures.endpoint("10.42.0.8", ready: nil),
            ], ports: [EndpointPort(name: "pg", protocol: "TCP", port: 5432)]),
            Fixtures.slice("late-1", service: "late", endpoints: [Fixtures.endpoint("10.42.1.1", ready: false)]),
            Fixtures.slice("web-1", service: "web", endpoints: [Fixtures.endpoint("10.42.2.1")]),
        ])
        return HandlerHarness(store: store)
    }

    @Test func clusterIPServiceA() throws {
        let reply = try Self.harness().ask("web.default.svc.cluster.local")
        #expect(reply.rcode == .noError)
        #expect(reply.isAuthoritative)
        #expect(reply.answerData == ["10.43.0.20"])
        #expect(reply.answers[0].ttl == 5)
        #expect(reply.answers[0].name.description == "web.default.svc.cluster.local.")
    }

    @Test func namesAreCaseInsensitiveAndEchoTheQuestionsCase() throws {
        let reply = try Self.harness().ask("WEB.Default.SVC.cluster.LOCAL")
        #expect(reply.answerData == ["10.43.0.20"])
        #expect(reply.questions[0].name.description == "WEB.Default.SVC.cluster.LOCAL.")
        #expect(reply.answers[0].name.wire == reply.questions[0].name.wire)
    }

    @Test func namedPortSRVTargetsTheService() throws {
        let reply = try Self.harness().ask("_http._tcp.web.default.svc.cluster.local", .srv)
        #expect(reply.answerData == ["0 100 80 web.default.svc.cluster.local."])
        #expect(reply.additionals.map(\.data.description) == ["10.43.0.20"])
    }

    @Test func unknownPortOrProtocolIsNXDOMAIN() throws {
        let h = try Self.harness()
        #expect(try h.ask("_http._udp.web.default.svc.cluster.local", .srv).rcode == .nameError)
        #expect(try h.ask("_nope._tcp.web.default.svc.cluster.local", .srv).rcode == .nameError)
    }

    @Test func clusterIPPTR() throws {
        let reply = try Self.harness().ask("20.0.43.10.in-addr.arpa", .ptr)
        #expect(reply.answerData == ["web.default.svc.cluster.local."])
        #expect(reply.isAuthoritative)
    }

    @Test func headlessAnswersReadyEndpoints() throws {
        let reply = try Self.harness().ask("db.default.svc.cluster.local")
        // Ready, and unset (unknown counts as ready); not the one marked not ready.
        #expect(Set(reply.answerData) == ["10.42.0.5", "10.42.0.6", "10.42.0.8"])
    }

    @Test func headlessEndpointHostnamesAndDashedAddresses() throws {
        let h = try Self.harness()
        #expect(try h.ask("db-0.db.default.svc.cluster.local").answerData == ["10.42.0.5"])
        #expect(try h.ask("10-42-0-6.db.default.svc.cluster.local").answerData == ["10.42.0.6"])
        #expect(try h.ask("10-42-0-7.db.default.svc.cluster.local").rcode == .nameError)
    }

    @Test func headlessSRVOnePerEndpointWithGlue() throws {
        let reply = try Self.harness().ask("_pg._tcp.db.default.svc.cluster.local", .srv)
        #expect(Set(reply.answerData) == ["0 33 5432 db-0.db.default.svc.cluster.local.",
                                         "0 33 5432 10-42-0-6.db.default.svc.cluster.local.",
                                         "0 33 5432 10-42-0-8.db.default.svc.cluster.local."])
        #expect(Set(reply.additionals.map { "\($0.name) \($0.data)" }) == [
            "db-0.db.default.svc.cluster.local. 10.42.0.5", "10-42-0-6.db.default.svc.cluster.local. 10.42.0.6",
            "10-42-0-8.db.default.svc.cluster.local. 10.42.0.8"])
    }

    @Test func headlessEndpointPTR() throws {
        let reply = try Self.harness().ask("5.0.42.10.in-addr.arpa", .ptr)
        #expect(reply.answerData == ["db-0.db.default.svc.cluster.local."])
    }

    @Test func headlessWithoutReadyEndpointsIsNXDOMAIN() throws {
        let reply = try Self.harness().ask("empty.default.svc.cluster.local")
        #expect(reply.rcode == .nameError)
    }

    @Test func publishNotReadyAddressesIsHonoured() throws {
        #expect(try Self.harness().ask("late.default.svc.cluster.local").answerData == ["10.42.1.1"])
    }

    @Test func externalNameIsACNAME() throws {
        let h = try Self.harness()
        let cname = try h.ask("ext.default.svc.cluster.local", .cname)
        #expect(cname.answerData == ["www.example.org."])
        // An A query follows the CNAME out of the zone: to the forwarder, with the CNAME first.
        guard case .forward(let request) = h.run(QueryBytes.make("ext.default.svc.cluster.local")) else {
            Issue.record("an ExternalName A query must be forwarded")
            return
        }
        #expect(DNSName(validatedWire: request.upstreamName).description == "www.example.org.")
        #expect(request.prefix.map(\.description) == ["ext.default.svc.cluster.local. 5 IN CNAME www.example.org."])
    }

    @Test func externalNameInsideTheZoneIsChasedHere() throws {
        let reply = try Self.harness().ask("alias.default.svc.cluster.local")
        #expect(reply.answers.map(\.description) == ["alias.default.svc.cluster.local. 5 IN CNAME web.default.svc.cluster.local.",
                                                     "web.default.svc.cluster.local. 5 IN A 10.43.0.20"])
    }

    @Test func dualStackServiceAnswersAAndAAAA() throws {
        let h = try Self.harness()
        #expect(try h.ask("v6.default.svc.cluster.local").answerData == ["10.43.0.21"])
        #expect(try h.ask("v6.default.svc.cluster.local", .aaaa).answerData == ["fd00::20"])
        let ptr = try h.ask("0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", .ptr)
        #expect(ptr.answerData == ["v6.default.svc.cluster.local."])
    }

    @Test func existingNameWithoutTheTypeIsNODATAWithSOA() throws {
        let reply = try Self.harness().ask("web.default.svc.cluster.local", .aaaa)
        #expect(reply.rcode == .noError)
        #expect(reply.answers.isEmpty)
        #expect(reply.authorities.count == 1)
        guard case .soa(let soa) = reply.authorities[0].data else {
            Issue.record("no SOA in the authority section")
            return
        }
        #expect(reply.authorities[0].name.description == "cluster.local.")
        #expect(soa.mname.description == "ns.dns.cluster.local.")
        #expect(soa.rname.description == "hostmaster.cluster.local.")
        #expect([soa.refresh, soa.retry, soa.expire, soa.minimum] == [7200, 1800, 86400, 5])
    }

    @Test func missingNamesAreNXDOMAINWithSOA() throws {
        let h = try Self.harness()
        for name in ["nope.default.svc.cluster.local", "web.nons.svc.cluster.local", "a.b.web.default.svc.cluster.local",
                     "*.default.svc.cluster.local", "foo.cluster.local"] {
            let reply = try h.ask(name)
            #expect(reply.rcode == .nameError, "\(name)")
            #expect(reply.authorities.first?.type == .soa, "\(name)")
        }
    }

    @Test func zoneStructureNamesAreNODATA() throws {
        let h = try Self.harness()
        for name in ["cluster.local", "svc.cluster.local", "pod.cluster.local", "default.svc.cluster.local"] {
            let reply = try h.ask(name)
            #expect(reply.rcode == .noError, "\(name)")
            #expect(reply.answers.isEmpty, "\(name)")
        }
    }

    @Test func schemaVersionTXT() throws {
        let reply = try Self.harness().ask("dns-version.cluster.local", .txt)
        #expect(reply.answerData == ["\"1.1.0\""])
        #expect(reply.answers[0].ttl == 28800)
    }

    @Test func apexSOAAndNS() throws {
        let h = try Self.harness()
        #expect(try h.ask("cluster.local", .soa).answers.first?.type == .soa)
        let ns = try h.ask("cluster.local", .ns)
        #expect(ns.answerData == ["ns.dns.cluster.local."])
        #expect(ns.additionals.map(\.data.description) == ["10.43.0.10"])
    }

    @Test func podNamesInsecureMode() throws {
        let h = try Self.harness()
        #expect(try h.ask("10-42-0-99.default.pod.cluster.local").answerData == ["10.42.0.99"])
        #expect(try h.ask("fd00--5.default.pod.cluster.local", .aaaa).answerData == ["fd00::5"])
        #expect(try h.ask("10-42-0-99.default.pod.cluster.local", .aaaa).rcode == .noError)
        #expect(try h.ask("not-an-ip.default.pod.cluster.local").rcode == .nameError)
        #expect(try h.ask("10-42-0-99.nons.pod.cluster.local").rcode == .nameError)
    }

    @Test func zoneTransfersAreRefused() throws {
        #expect(try Self.harness().ask("cluster.local", .axfr).rcode == .refused)
    }

    @Test func namesOutsideTheZoneAreForwarded() throws {
        let h = try Self.harness()
        guard case .forward(let request) = h.run(QueryBytes.make("Example.ORG", .a, id: 77)) else {
            Issue.record("expected forwarding")
            return
        }
        #expect(request.clientID == 77)
        #expect(DNSName(validatedWire: request.upstreamName).description == "example.org.")
        #expect(DNSName(validatedWire: request.question).description == "Example.ORG.")
        // Reverse names that are not cluster addresses go upstream too.
        guard case .forward = h.run(QueryBytes.make("1.2.0.192.in-addr.arpa", .ptr)) else {
            Issue.record("unknown reverse names must be forwarded")
            return
        }
    }

    @Test func withoutUpstreamsForwardedNamesGetSERVFAIL() throws {
        let store = try ClusterRecordStore()
        let h = HandlerHarness(store: store, canForward: false)
        #expect(try h.ask("example.org").rcode == .serverFailure)
    }

    @Test func beforeSyncMissingNamesAreSERVFAIL() throws {
        let store = try ClusterRecordStore()
        store.apply(Fixtures.service("web"))
        let h = HandlerHarness(store: store)
        #expect(try h.ask("web.default.svc.cluster.local").answerData == ["10.43.0.20"])
        #expect(try h.ask("other.default.svc.cluster.local").rcode == .serverFailure)
        store.markSynced()
        #expect(try h.ask("other.default.svc.cluster.local").rcode == .nameError)
    }

    @Test func customZoneAndTTL() throws {
        let store = try ClusterRecordStore(zone: "k8s.example", ttl: 30)
        store.replace(services: [Fixtures.service("web")], endpointSlices: [])
        let reply = try HandlerHarness(store: store).ask("web.default.svc.k8s.example")
        #expect(reply.answerData == ["10.43.0.20"])
        #expect(reply.answers[0].ttl == 30)
    }
}
