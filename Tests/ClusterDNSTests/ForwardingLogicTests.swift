import Testing
@testable import ClusterDNS

/// The cache's RFC 2308 rules, replies built from cached answers (aged TTLs, the client's
/// case, EDNS, truncation), and resolv.conf reading.
@Suite struct ForwardingLogicTests {
    static func a(_ name: String, _ ttl: UInt32, _ last: UInt8) throws -> ResourceRecord {
        ResourceRecord(name: try DNSName(name), type: .a, ttl: ttl, data: .a([192, 0, 2, last]))
    }

    static func soa(ttl: UInt32, minimum: UInt32) throws -> ResourceRecord {
        ResourceRecord(name: try DNSName("example.org"), type: .soa, ttl: ttl,
                       data: .soa(SOAData(mname: try DNSName("ns.example.org"), rname: try DNSName("h.example.org"),
                                          serial: 1, refresh: 2, retry: 3, expire: 4, minimum: minimum)))
    }

    @Test func cacheLifetimes() throws {
        let cache = ResponseCache(limits: .init(capacity: 100, maxPositiveTTL: 30, maxNegativeTTL: 20))
        let a = RecordType.a.rawValue
        #expect(cache.lifetime(rcode: .noError, answers: [try Self.a("x.org", 300, 1), try Self.a("x.org", 12, 2)],
                               authorities: [], type: a) == 12)
        #expect(cache.lifetime(rcode: .noError, answers: [try Self.a("x.org", 300, 1)], authorities: [], type: a) == 30)
        #expect(cache.lifetime(rcode: .noError, answers: [try Self.a("x.org", 0, 1)], authorities: [], type: a) == nil)
        // Negative: min(SOA TTL, MINIMUM), capped; no SOA, no caching (RFC 2308 §5).
        #expect(cache.lifetime(rcode: .nameError, answers: [], authorities: [try Self.soa(ttl: 10, minimum: 15)], type: a) == 10)
        #expect(cache.lifetime(rcode: .noError, answers: [], authorities: [try Self.soa(ttl: 900, minimum: 60)], type: a) == 20)
        #expect(cache.lifetime(rcode: .nameError, answers: [], authorities: [], type: a) == nil)
        #expect(cache.lifetime(rcode: .serverFailure, answers: [], authorities: [try Self.soa(ttl: 9, minimum: 9)], type: a) == nil)
    }

    @Test func cacheStaysWithinItsCapacity() throws {
        let cache = ResponseCache(limits: .init(capacity: 320))
        let now = Monotonic.now()
        for i in 0..<2000 {
            let name = try DNSName("host-\(i).example.org")
            cache.insert(ForwardedAnswer(name: name.wire, type: 1, recordClass: 1, rcode: .noError,
                                         answers: [try Self.a("host-\(i).example.org", 30, 1)], authorities: [],
                                         additionals: [], received: now, lifetime: 30), now: now)
        }
        #expect(cache.count <= 320)
        #expect(cache.count >= 200)
        let last = try DNSName("host-1999.example.org").wire
        #expect(last.withUnsafeBytes { cache.lookup(hash: NameHash.of($0), name: $0, type: 1, recordClass: 1, now: now) } != nil)
    }

    static func store() throws -> ClusterRecordStore {
        let store = try ClusterRecordStore()
        store.markSynced()
        return store
    }

    @Test func cacheHitsAgeTTLsAndEchoTheClient() throws {
        let h = HandlerHarness(store: try Self.store())
        let received = Monotonic.now() - 3_000_000_000
        let answer = ForwardedAnswer(name: try DNSName("www.example.org").wire, type: 1, recordClass: 1, rcode: .noError,
                                     answers: [try Self.a("www.example.org", 30, 7)], authorities: [], additionals: [],
                                     received: received, lifetime: 25)
        h.cache.insert(answer, now: received)
        for edns in [nil, UInt16(1232)] as [UInt16?] {
            guard case .reply(let bytes) = h.run(QueryBytes.make("WWW.example.ORG", .a, id: 99, edns: edns)) else {
                Issue.record("no reply from the cache")
                return
            }
            let reply = try DNSMessage.parse(bytes)
            #expect(reply.id == 99)
            #expect(reply.recursionDesired && reply.recursionAvailable && !reply.isAuthoritative)
            #expect(reply.questions[0].name.description == "WWW.example.ORG.")
            #expect(reply.answerData == ["192.0.2.7"])
            // 30 s TTL, 25 s lifetime, 3 s old: 22 left.
            #expect((21...22).contains(reply.answers[0].ttl))
            #expect((reply.edns != nil) == (edns != nil))
        }
    }

    @Test func expiredEntriesAreNotServed() throws {
        let h = HandlerHarness(store: try Self.store())
        let received = Monotonic.now() - 10_000_000_000
        h.cache.insert(ForwardedAnswer(name: try DNSName("old.example.org").wire, type: 1, recordClass: 1, rcode: .noError,
                                       answers: [try Self.a("old.example.org", 5, 1)], authorities: [], additionals: [],
                                       received: received, lifetime: 5), now: received)
        guard case .forward = h.run(QueryBytes.make("old.example.org")) else {
            Issue.record("an expired entry must be asked again")
            return
        }
    }

    @Test func bigCachedAnswersAreTruncatedForUDPAndWholeOverTCP() throws {
        let h = HandlerHarness(store: try Self.store())
        let records = try (0..<60).map { try Self.a("big.example.org", 30, UInt8($0)) }
        let now = Monotonic.now()
        h.cache.insert(ForwardedAnswer(name: try DNSName("big.example.org").wire, type: 1, recordClass: 1, rcode: .noError,
                                       answers: records, authorities: [], additionals: [], received: now, lifetime: 30), now: now)
        guard case .reply(let udp) = h.run(QueryBytes.make("big.example.org")) else { Issue.record("no reply"); return }
        #expect(udp.count <= 512)
        let truncated = try DNSMessage.parse(udp)
        #expect(truncated.isTruncated)
        #expect(truncated.answers.count < 60)
        guard case .reply(let tcp) = h.run(QueryBytes.make("big.example.org"), tcp: true) else { Issue.record("no reply"); return }
        let whole = try DNSMessage.parse(tcp)
        #expect(!whole.isTruncated)
        #expect(whole.answers.count == 60)
    }

    @Test func bigClusterAnswersTruncateAtTheClientsSize() throws {
        let store = try Self.store()
        store.apply(Fixtures.service("many", clusterIP: "None"))
        store.apply(Fixtures.slice("many-1", service: "many",
                                   endpoints: (1...200).map { Fixtures.endpoint("10.42.\($0 / 250).\($0 % 250)") }))
        let h = HandlerHarness(store: store)
        let small = try h.ask("many.default.svc.cluster.local")
        #expect(small.isTruncated)
        let edns = try h.ask("many.default.svc.cluster.local", edns: 4096)
        #expect(edns.isTruncated)  // capped at 1232, our advertised size
        #expect(edns.answers.count > small.answers.count)
        let tcp = try h.ask("many.default.svc.cluster.local", tcp: true)
        #expect(!tcp.isTruncated)
        #expect(tcp.answers.count == 200)
        guard case .reply(let bytes) = h.run(QueryBytes.make("many.default.svc.cluster.local")) else { Issue.record("no reply"); return }
        #expect(bytes.count <= 512)
    }

    @Test func namesAreCompressed() throws {
        let store = try Self.store()
        store.apply(Fixtures.service("web"))
        let h = HandlerHarness(store: store)
        guard case .reply(let bytes) = h.run(QueryBytes.make("_http._tcp.web.default.svc.cluster.local", .srv)) else { Issue.record("no reply"); return }
        // Question (43) + SRV owner as a pointer (2) + the uncompressed target (31) + glue owner
        // as a pointer into the SRV target (2): far below writing every name out.
        #expect(bytes.count < 12 + 46 + 2 + 10 + 6 + 31 + 2 + 14 + 2)
        let reply = try DNSMessage.parse(bytes)
        #expect(reply.additionals.first?.name.description == "web.default.svc.cluster.local.")
    }

    @Test func forwardedRepliesCarryThePrefixAndUpstreamRcode() throws {
        let request = ForwardRequest(clientID: 5, clientFlags: 0x0100, question: try DNSName("Ext.default.svc.cluster.local").wire,
                                     type: 1, recordClass: 1, upstreamName: try DNSName("www.example.org").wire,
                                     prefix: [ResourceRecord(name: try DNSName("Ext.default.svc.cluster.local"), type: .cname, ttl: 5,
                                                             data: .name(try DNSName("www.example.org")))],
                                     clientEDNS: true, dnssecOK: false, limit: 1232)
        let answer = ForwardedAnswer(name: request.upstreamName, type: 1, recordClass: 1, rcode: .nameError, answers: [],
                                     authorities: [try Self.soa(ttl: 60, minimum: 30)], additionals: [],
                                     received: Monotonic.now(), lifetime: 30)
        let bytes = ReplyWriting.forwarded(request, answer: answer, rcode: .nameError, age: 0, recursionAvailable: true,
                                           maxUDPPayload: 1232, table: CompressionTable())
        let reply = try DNSMessage.parse(bytes)
        #expect(reply.id == 5)
        #expect(reply.rcode == .nameError)
        #expect(reply.answers.map(\.type) == [.cname])
        #expect(reply.authorities.first?.ttl == 30)
        #expect(reply.edns != nil)
    }

    @Test func resolvConfParsing() throws {
        let servers = UpstreamConfig.parse("""
            # comment
            search default.svc.cluster.local
            nameserver 10.0.0.2
            nameserver   127.0.0.53
            nameserver fe80::1%eth0
            nameserver not-an-address
            nameserver 2001:db8::53
            nameserver 10.0.0.2
            nameserver 10.0.0.4
            options ndots:5
            """)
        #expect(servers.map(\.description) == ["10.0.0.2:53", "127.0.0.53:53", "[2001:db8::53]:53"])
        let config = UpstreamConfig(servers: servers)
        #expect(try config.resolve().map(\.description) == ["10.0.0.2:53", "127.0.0.53:53", "[2001:db8::53]:53"])
        // Our own address is never an upstream (a forwarding loop).
        #expect(try config.resolve(excluding: [try SocketAddress(host: "10.0.0.2", port: 53)]).count == 2)
    }

    @Test func loopbackStubsAreSkippedWithSystemdResolvedsListAsFallback() throws {
        let dir = "/tmp/swiftlet-dns-resolv-\(UInt32.random(in: 0...UInt32.max))"
        try TestFiles.write("\(dir)/resolv.conf", "nameserver 127.0.0.53\noptions edns0\n")
        try TestFiles.write("\(dir)/upstream.conf", "nameserver 192.0.2.53\nnameserver 127.0.0.1\n")
        defer { TestFiles.remove(dir) }
        let config = UpstreamConfig(resolvConf: "\(dir)/resolv.conf", fallbackResolvConf: "\(dir)/upstream.conf")
        #expect(try config.resolve().map(\.description) == ["192.0.2.53:53"])
        var keep = config
        keep.skipLoopback = false
        #expect(try keep.resolve().map(\.description) == ["127.0.0.53:53"])
        #expect(throws: DNSServerError.self) { try UpstreamConfig(resolvConf: "\(dir)/missing").resolve() }
    }
}
